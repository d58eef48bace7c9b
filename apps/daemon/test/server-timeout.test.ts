import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { requestTimeout } from '../src/request-timeout.js'

function app(ms: number, handler: () => Promise<Response>) {
  const hono = new Hono()
  hono.use('*', requestTimeout(ms))
  hono.get('/x', handler)
  return hono
}

describe('request timeout', () => {
  it('answers E_TIMEOUT when the handler has not answered in time', async () => {
    let release: (() => void) | undefined
    const held = new Promise<void>((resolve) => (release = resolve))
    let finished = false
    const slow = app(10, async () => {
      await held
      finished = true
      return Response.json({ late: true })
    })
    const response = await slow.request('/x')
    expect(response.status).toBe(503)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    expect(await response.json()).toMatchObject({ code: 'E_TIMEOUT', status: 503 })
    expect(finished).toBe(false)
    release?.()
    await held
  })

  it('passes an answer that comes in time through unchanged', async () => {
    const fast = app(60_000, () => Promise.resolve(Response.json({ ok: true }, { status: 201 })))
    const response = await fast.request('/x')
    expect(response.status).toBe(201)
    expect(await response.json()).toEqual({ ok: true })
  })

  it('does not turn a handler that fails after the deadline into an unhandled rejection', async () => {
    let fail: ((error: Error) => void) | undefined
    const failing = app(10, () => new Promise<Response>((_resolve, reject) => (fail = reject)))
    const response = await failing.request('/x')
    expect(response.status).toBe(503)
    fail?.(new Error('late failure'))
    // vitest reports an unhandled rejection as a failed run.
    await new Promise((resolve) => setImmediate(resolve))
  })
})
