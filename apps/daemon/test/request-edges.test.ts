import { join } from 'node:path'
import { fetch } from 'undici'
import { describe, expect, it } from 'vitest'
import { DaemonMetrics } from '../src/metrics.js'
import { startDaemon } from '../src/server.js'
import { TdService } from '../src/td-service.js'
import { e2eFixtures } from './e2e-fixtures.js'
import { expectAnswer, json, setup } from './routes-helpers.js'

// Issue 15, findings 11 and 12: the smaller ones.

const { tempDir, keep, client } = e2eFixtures('vtld-edges-')

describe('request edges', () => {
  it('Idempotency-Key on an unknown route: 404; a wrong method: 405 with Allow; never 500', async () => {
    const dir = tempDir()
    const daemon = keep(
      await startDaemon({ socket: join(dir, 'vtld.sock'), dataDir: join(dir, 'data') })
    )
    const { agent } = client(daemon.socket)
    for (const [method, path, status, allow] of [
      ['POST', '/v1/nowhere', 404, null],
      ['POST', '/v1/tds/td-x/nothing', 404, null],
      ['PATCH', '/v1/tds', 405, 'GET, HEAD, POST'],
      ['PUT', '/v1/tds/td-x/hypercall', 405, 'POST'],
      ['POST', '/v1/tds/td-x', 405, 'DELETE, GET, HEAD'],
      ['DELETE', '/metrics', 405, 'GET, HEAD'],
    ] as const) {
      const response = await fetch(`http://vtld${path}`, {
        method,
        dispatcher: agent,
        headers: { ...json, 'idempotency-key': 'k-1' },
        body: '{"a":1}',
      })
      expect(response.status, `${method} ${path}`).toBe(status)
      expect(response.headers.get('allow'), `${method} ${path}`).toBe(allow)
      expect(await response.json()).toMatchObject({
        code: status === 404 ? 'E_NOT_FOUND' : 'E_METHOD_NOT_ALLOWED',
      })
    }
    // The app alone (no edge) answers the same.
    const ctx = setup()
    const response = await ctx.app.request('/v1/tds', { method: 'PUT' })
    expect(response.status).toBe(405)
    expect(response.headers.get('allow')).toBe('GET, HEAD, POST')
  })

  it('through the daemon (the API mounted on its edge): the same problem documents and bodies', async () => {
    const dir = tempDir()
    const daemon = keep(
      await startDaemon({
        socket: join(dir, 'vtld.sock'),
        dataDir: join(dir, 'data'),
        bodyLimit: 4096,
      })
    )
    const { agent, post, get } = client(daemon.socket)
    const send = (path: string, body: string) =>
      fetch(`http://vtld${path}`, { method: 'POST', dispatcher: agent, headers: json, body })
    const td = (await (await post('/v1/tds', { vps: 1, memory: '16MiB' })).json()) as {
      id: string
    }
    const cases: [ReturnType<typeof get>, number, string][] = [
      [get('/v1/tds/td-nothere/status'), 404, 'E_NO_TD'],
      [post('/v1/tds/td-nothere/hypercall', { vp: 0, code: '0x000d' }), 404, 'E_NO_TD'],
      [send(`/v1/tds/${td.id}/hypercall`, '{"vp":'), 400, 'E_BAD_REQUEST'],
      [send(`/v1/tds/${td.id}/hypercall`, '{"vp":"x"}'), 400, 'E_VALIDATION'],
      [send(`/v1/tds/${td.id}/steps`, `{"pad":"${'x'.repeat(5000)}"}`), 413, 'E_BODY_TOO_LARGE'],
      [
        send(`/v1/tds/${td.id}/steps`, `{"steps":${'['.repeat(100)}${']'.repeat(100)}}`),
        400,
        'E_BAD_REQUEST',
      ],
      [post(`/v1/tds/${td.id}/hypercall`, { vp: 7, code: '0x000d' }), 400, 'E_BAD_VP'],
    ]
    for (const [answer, status, code] of cases) {
      const response = await answer
      expect(response.headers.get('content-type')).toBe('application/problem+json')
      expect(await response.json()).toMatchObject({ status, code })
    }
    // The status view and a step's answer: the JSON the service's values make, as c.json sends it.
    const status = await get(`/v1/tds/${td.id}/status`)
    expect(status.headers.get('content-type')).toBe('application/json')
    expect(await status.text()).toBe(JSON.stringify(await daemon.tds.status(td.id)))
    const step = await post(`/v1/tds/${td.id}/hypercall`, { vp: 0, code: '0x000d', input: '' })
    expect(step.headers.get('content-type')).toBe('application/json')
    expect(await step.json()).toMatchObject({ status: 'InvalidPartitionId' })
  })

  it('JSON nested 5000 levels: 400 E_BAD_REQUEST on every route', async () => {
    const ctx = setup()
    const id = await ctx.createTd()
    const deep = '['.repeat(5000) + ']'.repeat(5000)
    const cases: [string, string][] = [
      [`/v1/tds/${id}/steps`, `{"steps":[{"vp":0,"run":{},"x":${deep}}]}`],
      [`/v1/tds/${id}/vsm/enable-vp-vtl`, `{"vp":0,"targetVp":0,"context":{"rip":${deep}}}`],
      ['/v1/tds/restore', `{"snapshot":${deep}}`],
    ]
    for (const [path, body] of cases) {
      const response = await ctx.app.request(path, { method: 'POST', headers: json, body })
      const problem = await expectAnswer(response, 400, 'E_BAD_REQUEST')
      expect(problem.detail).toMatch(/nests deeper than 64 levels/)
    }
    // Strings with brackets are not nesting.
    await expectAnswer(ctx.post('/v1/tds', { name: '['.repeat(60), vps: 1, memory: 4096 }), 201)
  })

  it('the same JSON with other whitespace under one Idempotency-Key replays, not 422', async () => {
    const ctx = setup()
    const id = await ctx.createTd()
    const path = `/v1/tds/${id}/hypercall`
    const send = (body: string) =>
      ctx.app.request(path, {
        method: 'POST',
        headers: { ...json, 'idempotency-key': 'ws-1' },
        body,
      })
    const first = await expectAnswer(
      send('{"vp":0,"code":"0x000d","input":"ffffffffffffffff 01 00 0000 00000000"}'),
      200
    )
    const again = await send(
      '{\n  "vp": 0,\n  "code": "0x000d",\n  "input": "ffffffffffffffff 01 00 0000 00000000"\n}'
    )
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await again.json()).toEqual(first)
  })

  it('unknown hypercall codes share one metrics series', async () => {
    const tds = new TdService()
    const metrics = new DaemonMetrics()
    metrics.watch(tds)
    const { id } = await tds.create({ vps: 1, memory: 1n << 20n, gpaWidth: 48, mbec: false })
    for (let code = 0x0400; code < 0x0440; code++) {
      await tds.hypercall(id, {
        vp: 0,
        code,
        input: new Uint8Array(),
        repStart: 0,
        repCount: 0,
        varHeaderSize: 0,
        fast: false,
      })
    }
    const text = await (await metrics.exposition()).text()
    const series = text.split('\n').filter((l) => l.startsWith('vtl_hypercalls_total{'))
    expect(series).toHaveLength(1)
    expect(series[0]).toMatch(/code="other",name="Unknown",status="InvalidHypercallCode"\} 64/)
  })
})
