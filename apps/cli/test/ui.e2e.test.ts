import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDaemon } from '@vtl/daemon'
import { fetch } from 'undici'
import { afterAll, describe, expect, it } from 'vitest'
import { mintUiLink, startUiProxy } from '../src/ui-proxy.js'

// `vtl ui`'s access model end to end: the proxy on 127.0.0.1 in front of a real vtld (socket),
// a one-time link, the session cookie, 401 without it, 403 for a foreign Origin or Host.

const tmp = mkdtempSync(join(tmpdir(), 'vtl-ui-'))
const consoleDir = join(tmp, 'console')
mkdirSync(join(consoleDir, 'assets'), { recursive: true })
writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><title>console</title>')
writeFileSync(join(consoleDir, 'assets', 'app-1234.js'), 'export {}')
writeFileSync(join(tmp, 'secret.txt'), 'not for the browser')
const socket = join(tmp, 'vtld.sock')
const daemon = await startDaemon({
  socket,
  dataDir: join(tmp, 'data'),
  scenarioWorkers: 1,
  consoleDir,
})
const upstream = { socketPath: socket }
const proxy = await startUiProxy(upstream, 0)
afterAll(async () => {
  await proxy.close()
  await daemon.close()
  rmSync(tmp, { recursive: true, force: true })
})

const manual = { redirect: 'manual' } as const

/** A console session: the cookie the link's exchange set. */
async function session(): Promise<string> {
  const link = `${proxy.origin}${await mintUiLink(upstream)}`
  const answer = await fetch(link, manual)
  expect(answer.status).toBe(303)
  const cookie = answer.headers.get('set-cookie') ?? ''
  return cookie.split(';')[0] ?? ''
}

describe('vtl ui: access to the console', () => {
  it('listens on 127.0.0.1 only', () => {
    expect(proxy.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  })

  it('exchanges the one-time link for an HttpOnly SameSite=Strict cookie, once', async () => {
    const link = `${proxy.origin}${await mintUiLink(upstream)}`
    const first = await fetch(link, manual)
    expect(first.status).toBe(303)
    expect(first.headers.get('location')).toBe('/ui/')
    const cookie = first.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(/^vtl_ui_\d+=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict$/)
    const again = await fetch(link, manual)
    expect(again.status).toBe(401)
    expect(again.headers.get('set-cookie')).toBeNull()
    expect(await again.json()).toMatchObject({ code: 'E_UNAUTHORIZED' })
    expect((await fetch(`${proxy.origin}/ui/session?token=guess`, manual)).status).toBe(401)
  })

  it('answers 401 on every route without the cookie, or with a cookie it did not set', async () => {
    for (const path of ['/ui/', '/ui/assets/app-1234.js', '/v1/tds', '/metrics', '/nowhere']) {
      expect((await fetch(`${proxy.origin}${path}`)).status, path).toBe(401)
    }
    const forged = `vtl_ui_${new URL(proxy.origin).port}=${'A'.repeat(43)}`
    expect((await fetch(`${proxy.origin}/v1/tds`, { headers: { cookie: forged } })).status).toBe(
      401
    )
    const created = await fetch(`${proxy.origin}/v1/tds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: proxy.origin },
      body: JSON.stringify({ vps: 1, memory: '4MiB' }),
    })
    expect(created.status).toBe(401)
  })

  it('serves the console and the API with the cookie; state changes need the console’s Origin', async () => {
    const cookie = await session()
    const page = await fetch(`${proxy.origin}/ui/`, { headers: { cookie } })
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'")
    expect(page.headers.get('x-frame-options')).toBe('DENY')
    expect(await page.text()).toContain('<title>console</title>')
    const asset = await fetch(`${proxy.origin}/ui/assets/app-1234.js`, { headers: { cookie } })
    expect(asset.headers.get('cache-control')).toContain('immutable')
    for (const path of ['/ui/..%2Fsecret.txt', '/ui/%2e%2e/secret.txt']) {
      expect((await fetch(`${proxy.origin}${path}`, { headers: { cookie } })).status, path).toBe(
        404
      )
    }
    expect((await fetch(`${proxy.origin}/v1/tds`, { headers: { cookie } })).status).toBe(200)

    const create = (origin?: string) =>
      fetch(`${proxy.origin}/v1/tds`, {
        method: 'POST',
        headers: {
          cookie,
          'content-type': 'application/json',
          ...(origin === undefined ? {} : { origin }),
        },
        body: JSON.stringify({ vps: 1, memory: '4MiB' }),
      })
    const foreign = await create('http://evil.example')
    expect(foreign.status).toBe(403)
    expect(await foreign.json()).toMatchObject({ code: 'E_FORBIDDEN' })
    expect((await create()).status).toBe(403)
    expect((await create(proxy.origin)).status).toBe(201)
    expect(daemon.tds.list()).toHaveLength(1)
    // Links are minted by trusted clients only, never from the console.
    const mint = await fetch(`${proxy.origin}/v1/ui/sessions`, {
      method: 'POST',
      headers: { cookie, origin: proxy.origin },
    })
    expect(mint.status).toBe(403)
  })

  it('refuses a Host that is not the console’s (DNS rebinding)', async () => {
    const cookie = await session()
    const { request } = await import('node:http')
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(proxy.origin)
      request(
        {
          host: url.hostname,
          port: url.port,
          path: '/v1/tds',
          headers: { cookie, host: 'rebound.example:80' },
        },
        (answer) => {
          answer.resume()
          resolve(answer.statusCode ?? 0)
        }
      )
        .once('error', reject)
        .end()
    })
    expect(status).toBe(403)
  })

  it('streams trace events through the proxy', async () => {
    const cookie = await session()
    const created = (await (
      await fetch(`${proxy.origin}/v1/tds`, {
        method: 'POST',
        headers: { cookie, origin: proxy.origin, 'content-type': 'application/json' },
        body: JSON.stringify({ vps: 1, memory: '4MiB' }),
      })
    ).json()) as { id: string }
    const abort = new AbortController()
    const stream = await fetch(`${proxy.origin}/v1/tds/${created.id}/trace/events`, {
      headers: { cookie },
      signal: abort.signal,
    })
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const enable = await fetch(`${proxy.origin}/v1/tds/${created.id}/vsm/enable-partition-vtl`, {
      method: 'POST',
      headers: { cookie, origin: proxy.origin, 'content-type': 'application/json' },
      body: JSON.stringify({ vp: 0 }),
    })
    expect(await enable.json()).toMatchObject({ status: 'Success' })
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader()
    let text = ''
    while (!text.includes('EnablePartitionVtl')) {
      const { value, done } = await reader.read()
      if (done) break
      text += new TextDecoder().decode(value)
    }
    expect(text).toMatch(/event: trace\ndata: \{.*"name":"EnablePartitionVtl".*\}\nid: \d+\n/)
    abort.abort()
  })
})

describe('vtl ui in front of vtld on TCP', () => {
  it('forwards with the bearer token, and still asks the browser for the cookie', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtl-ui-tcp-'))
    const tcp = await startDaemon({
      socket: join(dir, 'vtld.sock'),
      dataDir: join(dir, 'data'),
      listen: { host: '127.0.0.1', port: 0 },
      scenarioWorkers: 1,
      consoleDir,
    })
    const token = readFileSync(tcp.tcp?.tokenFile ?? '', 'utf8').trim()
    const viaTcp = { host: '127.0.0.1', port: tcp.tcp?.port ?? 0, authorization: `Bearer ${token}` }
    const front = await startUiProxy(viaTcp, 0)
    try {
      await expect(mintUiLink({ ...viaTcp, authorization: 'Bearer wrong' })).rejects.toThrow(
        /vtld refused a console link \(403/
      )
      expect((await fetch(`${front.origin}/v1/tds`)).status).toBe(401)
      const link = await fetch(`${front.origin}${await mintUiLink(viaTcp)}`, manual)
      const cookie = (link.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
      expect((await fetch(`${front.origin}/v1/tds`, { headers: { cookie } })).status).toBe(200)
    } finally {
      await front.close()
      await tcp.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
