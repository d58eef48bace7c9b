import { describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { TdService } from '../src/td-service.js'

const LIMIT = 4096

function setup() {
  return createApp({ tds: new TdService(), bodyLimit: LIMIT })
}

describe('the request body limit', () => {
  it.each(['POST', 'PUT', 'PATCH', 'DELETE'])(
    'refuses an oversized %s body with 413',
    async (method) => {
      const response = await setup().request('/v1/tds/td-1/vsm/partition-config', {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ pad: 'x'.repeat(LIMIT) }),
      })
      expect(response.status).toBe(413)
      expect(await response.json()).toMatchObject({ code: 'E_BODY_TOO_LARGE' })
    }
  )

  it.each(['GET', 'HEAD'])('never reads the body of a %s request', async (method) => {
    const request = new Request('http://vtld/v1/tds', { method })
    // The node adapter builds a full Request when `body` is read: a GET must not touch it.
    Object.defineProperty(request, 'body', {
      get: () => {
        throw new Error('body read')
      },
    })
    const response = await setup().fetch(request)
    expect(response.status).toBe(200)
  })
})
