import { expect } from 'vitest'
import { createApp, type AppDeps } from '../src/app.js'
import { TdService } from '../src/td-service.js'

// Shared by the route tests: an app over an in-memory TdService and JSON request helpers.

export const json = { 'content-type': 'application/json' }

export function setup(deps: Partial<AppDeps> = {}) {
  const tds = deps.tds ?? new TdService()
  const app = createApp({ ...deps, tds })
  const send = (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {}
  ) =>
    app.request(path, {
      method,
      headers: { ...json, ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  const post = (path: string, body: unknown, headers?: Record<string, string>) =>
    send('POST', path, body, headers)
  const get = async (path: string): Promise<unknown> => {
    const response = await app.request(path)
    expect(response.status, path).toBe(200)
    return await response.json()
  }
  const createTd = async (body: unknown = { vps: 2, memory: '16MiB' }): Promise<string> => {
    const response = await post('/v1/tds', body)
    expect(response.status).toBe(201)
    return ((await response.json()) as { id: string }).id
  }
  return { app, tds, send, post, get, createTd }
}

/** Sends a request and checks its status (and problem code when it is an error). */
export async function expectAnswer(
  response: Response | Promise<Response>,
  status: number,
  code?: string
): Promise<Record<string, unknown>> {
  const r = await response
  const text = await r.text()
  expect(r.status, text).toBe(status)
  const body = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>
  if (code !== undefined) {
    expect(r.headers.get('content-type')).toBe('application/problem+json')
    expect(body).toMatchObject({ code, status })
  }
  return body
}
