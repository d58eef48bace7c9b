import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { TdService } from '../src/td-service.js'

const json = { 'content-type': 'application/json' }
/** EnablePartitionVtl input page: partition self, target VTL 1, no flags. */
const ENABLE_PARTITION_VTL = 'ffffffffffffffff 01 00 0000 00000000'

function setup(bodyLimit?: number) {
  const app = createApp(
    bodyLimit === undefined ? { tds: new TdService() } : { tds: new TdService(), bodyLimit }
  )
  const post = (path: string, body: unknown) =>
    app.request(path, { method: 'POST', headers: json, body: JSON.stringify(body) })
  return { app, post }
}

async function createTd(
  post: ReturnType<typeof setup>['post'],
  body: unknown = { vps: 2, memory: '64MiB' }
) {
  const response = await post('/v1/tds', body)
  expect(response.status).toBe(201)
  return (await response.json()) as { id: string; vps: number; memory: string }
}

describe('TDs', () => {
  it('creates, lists, shows and deletes a TD', async () => {
    const { app, post } = setup()
    const td = await createTd(post, { vps: 4, memory: '16MiB', gpaWidth: 52 })
    expect(td).toMatchObject({ vps: 4, memory: '0x1000000', gpaWidth: 52, backend: 'sim' })

    const list = (await (await app.request('/v1/tds')).json()) as { tds: { id: string }[] }
    expect(list.tds.map((t) => t.id)).toEqual([td.id])
    expect(await (await app.request(`/v1/tds/${td.id}`)).json()).toEqual(td)

    expect((await app.request(`/v1/tds/${td.id}`, { method: 'DELETE' })).status).toBe(204)
    const gone = await app.request(`/v1/tds/${td.id}`)
    expect(gone.status).toBe(404)
    expect(await gone.json()).toMatchObject({ code: 'E_NO_TD', status: 404 })
  })

  it('refuses a second TD with the same name (409)', async () => {
    const { post } = setup()
    await createTd(post, { name: 'a', vps: 1, memory: 4096 })
    const again = await post('/v1/tds', { name: 'a', vps: 1, memory: 4096 })
    expect(again.status).toBe(409)
    expect(await again.json()).toMatchObject({ code: 'E_TD_EXISTS' })
  })
})

describe('hypercalls', () => {
  it('EnablePartitionVtl succeeds once, then answers InvalidVtlState (0x51)', async () => {
    const { app, post } = setup()
    const td = await createTd(post)
    const call = { vp: 0, code: '0x000d', input: ENABLE_PARTITION_VTL }
    const first = await post(`/v1/tds/${td.id}/hypercall`, call)
    expect(first.status).toBe(200)
    expect(await first.json()).toMatchObject({ status: 'Success', code: 0 })
    const second = await post(`/v1/tds/${td.id}/hypercall`, call)
    expect(await second.json()).toMatchObject({ status: 'InvalidVtlState', code: 0x51 })

    const status = (await (await app.request(`/v1/tds/${td.id}/status`)).json()) as {
      partition: { guestVsmState: string }
      vps: { vsmVpStatus: string }[]
    }
    expect(status.partition.guestVsmState).toBe('Enabled')
    expect(status.vps).toHaveLength(2)
  })
})

describe('scenarios', () => {
  it('runs a YAML scenario and answers the report', async () => {
    const { app } = setup()
    const text = `version: 1
name: enable
partition: { vps: 1, memory: 16MiB }
steps:
  - vp: 0
    hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1 } }
    expect: { status: Success }
  - vp: 0
    hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1 } }
    expect: { status: InvalidVtlState }
`
    const response = await app.request('/v1/scenarios/run', {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: text,
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ scenario: 'enable', passed: 2, failed: 0 })
  })

  it('runs a JSON conformance scenario from @vtl/sim', async () => {
    const { app } = setup()
    const file = new URL('../../../packages/sim/scenarios/ap-runs-vtl1-first.json', import.meta.url)
    const response = await app.request('/v1/scenarios/run', {
      method: 'POST',
      headers: json,
      body: readFileSync(file, 'utf8'),
    })
    expect(response.status).toBe(200)
    const report = (await response.json()) as { failed: number; passed: number }
    expect(report.failed).toBe(0)
    expect(report.passed).toBeGreaterThan(0)
  })

  it('rejects a bad scenario with E_SCENARIO', async () => {
    const { post } = setup()
    const response = await post('/v1/scenarios/run', { version: 2 })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ code: 'E_SCENARIO' })
  })
})

describe('openapi.json', () => {
  it('lists the routes', async () => {
    const { app } = setup()
    const doc = (await (await app.request('/openapi.json')).json()) as {
      openapi: string
      paths: Record<string, unknown>
    }
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/tds',
        '/v1/tds/{id}',
        '/v1/tds/{id}/status',
        '/v1/tds/{id}/hypercall',
        '/v1/scenarios/run',
      ])
    )
  })
})

describe('bad input', () => {
  it('answers each case with the right problem+json and keeps serving', async () => {
    const { app, post } = setup(4096)
    const td = await createTd(post)
    const cases: [string, () => Response | Promise<Response>, number, string][] = [
      [
        'malformed JSON',
        () => app.request('/v1/tds', { method: 'POST', headers: json, body: '{"vps":' }),
        400,
        'E_BAD_REQUEST',
      ],
      ['wrong type', () => post('/v1/tds', { vps: 'two', memory: '1MiB' }), 400, 'E_VALIDATION'],
      ['bad size', () => post('/v1/tds', { vps: 1, memory: '12 bananas' }), 400, 'E_VALIDATION'],
      ['unknown field', () => post('/v1/tds', { vps: 1, memory: 4096, x: 1 }), 400, 'E_VALIDATION'],
      ['too many VPs', () => post('/v1/tds', { vps: 5000, memory: 4096 }), 400, 'E_VALIDATION'],
      ['unaligned memory', () => post('/v1/tds', { vps: 1, memory: 4097 }), 400, 'E_BAD_TD'],
      [
        'memory beyond GPA width',
        () => post('/v1/tds', { vps: 1, memory: '1EiB' }),
        400,
        'E_BAD_TD',
      ],
      [
        'scenario memory beyond GPA width',
        () =>
          app.request('/v1/scenarios/run', {
            method: 'POST',
            headers: { 'content-type': 'application/yaml' },
            body: 'version: 1\npartition: { vps: 1, memory: 1EiB }\nsteps: []\n',
          }),
        400,
        'E_SCENARIO',
      ],
      [
        'text/plain body',
        () => app.request('/v1/tds', { method: 'POST', body: '{"vps":1,"memory":4096}' }),
        415,
        'E_UNSUPPORTED_MEDIA',
      ],
      ['JSON null', () => post('/v1/tds', null), 400, 'E_VALIDATION'],
      [
        'code out of range',
        () => post(`/v1/tds/${td.id}/hypercall`, { vp: 0, code: 0x10000 }),
        400,
        'E_VALIDATION',
      ],
      ['unknown TD', () => post('/v1/tds/td-nope/hypercall', { vp: 0, code: 13 }), 404, 'E_NO_TD'],
      ['unknown TD status', () => app.request('/v1/tds/td-nope/status'), 404, 'E_NO_TD'],
      [
        'VP out of range',
        () => post(`/v1/tds/${td.id}/hypercall`, { vp: 2, code: 13 }),
        400,
        'E_BAD_VP',
      ],
      [
        'odd hex',
        () => post(`/v1/tds/${td.id}/hypercall`, { vp: 0, code: 13, input: 'abc' }),
        400,
        'E_VALIDATION',
      ],
      [
        'oversized body',
        () => post('/v1/tds', { vps: 1, memory: 4096, name: 'x'.repeat(8000) }),
        413,
        'E_BODY_TOO_LARGE',
      ],
      ['unknown route', () => app.request('/v2/nothing'), 404, 'E_NOT_FOUND'],
    ]
    for (const [name, send, status, code] of cases) {
      const response = await send()
      expect(response.status, name).toBe(status)
      expect(response.headers.get('content-type'), name).toBe('application/problem+json')
      expect(await response.json(), name).toMatchObject({ status, code })
    }
    expect((await app.request('/healthz')).status).toBe(200)
    expect((await app.request(`/v1/tds/${td.id}`)).status).toBe(200)
  })
})
