import { describe, expect, it } from 'vitest'
import type { ScenarioReport } from '@vtl/sim'
import { TdService } from '../src/td-service.js'
import { expectAnswer, setup } from './routes-helpers.js'

const enable = { vp: 0, code: '0x000d', input: 'ffffffffffffffff 01 00 0000 00000000' }

describe('snapshot and restore', () => {
  it('a restored TD continues exactly where the snapshot was taken', async () => {
    const ctx = setup()
    const id = await ctx.createTd({ name: 'origin', vps: 2, memory: '16MiB' })
    await expectAnswer(ctx.post(`/v1/tds/${id}/hypercall`, enable), 200)
    const snapshot = (await ctx.get(`/v1/tds/${id}/snapshot`)) as { version: number }
    expect(snapshot.version).toBe(1)

    const copy = await expectAnswer(ctx.post('/v1/tds/restore', { name: 'copy', snapshot }), 201)
    expect(copy).toMatchObject({ name: 'copy', vps: 2, memory: '0x1000000', state: 'running' })
    expect(copy.id).not.toBe(id)
    expect(await ctx.get(`/v1/tds/${String(copy.id)}/snapshot`)).toEqual(snapshot)
    // Both answer the next call the same way (VTL1 is already enabled on the partition).
    const next = { vp: 1, steps: [{ vp: 1, hypercall: { name: 'EnableVpVtl' } }] }
    const a = await expectAnswer(ctx.post(`/v1/tds/${id}/steps`, { steps: next.steps }), 200)
    const b = await expectAnswer(
      ctx.post(`/v1/tds/${String(copy.id)}/steps`, { steps: next.steps }),
      200
    )
    expect(b).toEqual(a)
    expect(await ctx.get(`/v1/tds/${String(copy.id)}/status`)).toEqual({
      ...((await ctx.get(`/v1/tds/${id}/status`)) as object),
      id: copy.id,
    })
  })

  it('takes snapshots above the 1 MiB request limit', async () => {
    const ctx = setup({ bodyLimit: 4096 })
    const id = await ctx.createTd()
    const snapshot = await ctx.get(`/v1/tds/${id}/snapshot`)
    expect(JSON.stringify(snapshot).length).toBeGreaterThan(4096)
    await expectAnswer(ctx.post('/v1/tds/restore', { snapshot }), 201)
    await expectAnswer(
      ctx.post('/v1/tds', { vps: 1, memory: 4096, name: 'x'.repeat(5000) }),
      413,
      'E_BODY_TOO_LARGE'
    )
  })

  it('refuses what it cannot restore', async () => {
    const ctx = setup()
    const id = await ctx.createTd({ name: 'taken', vps: 1, memory: '1MiB' })
    const snapshot = (await ctx.get(`/v1/tds/${id}/snapshot`)) as Record<string, unknown>
    const cases: [string, unknown, number, string][] = [
      ['no snapshot', {}, 400, 'E_VALIDATION'],
      ['version 2', { snapshot: { ...snapshot, version: 2 } }, 400, 'E_VALIDATION'],
      ['not an object', { snapshot: 'x' }, 400, 'E_VALIDATION'],
      ['no platform', { snapshot: { ...snapshot, platform: undefined } }, 400, 'E_VALIDATION'],
      [
        'bad geometry',
        {
          snapshot: {
            ...snapshot,
            options: { vps: 0, memory: '0x1000', gpaWidth: 48, mbecCapable: true, seed: 0 },
          },
        },
        400,
        'E_BAD_SNAPSHOT',
      ],
      [
        'inconsistent parts',
        { snapshot: { ...snapshot, vps: [{}, {}, {}] } },
        400,
        'E_BAD_SNAPSHOT',
      ],
      ['name in use', { name: 'taken', snapshot }, 409, 'E_TD_EXISTS'],
    ]
    for (const [name, body, status, code] of cases) {
      const response = await ctx.post('/v1/tds/restore', body)
      expect(response.status, name).toBe(status)
      expect(await response.json(), name).toMatchObject({ code })
    }
    expect(((await ctx.get('/v1/tds')) as { tds: unknown[] }).tds).toHaveLength(1)
    await expectAnswer(ctx.app.request('/v1/tds/td-nope/snapshot'), 404, 'E_NO_TD')
  })
})

describe('DELETE force', () => {
  it('without force waits for queued commands; with force they fail E_NO_TD', async () => {
    const tds = new TdService()
    const spec = { vps: 1, memory: 1n << 20n, gpaWidth: 48 as const, mbec: true }
    const waited = (await tds.create(spec)).id
    const queued = tds.steps(waited, [{ vp: 0, run: {} }])
    await tds.delete(waited)
    expect(await queued).toHaveLength(1)

    const forced = (await tds.create(spec)).id
    const dropped = tds.steps(forced, [{ vp: 0, run: {} }])
    await tds.delete(forced, { force: true })
    await expect(dropped).rejects.toMatchObject({ code: 'E_NO_TD' })
    expect(tds.list()).toEqual([])
  })

  it('force=true through the route', async () => {
    const ctx = setup()
    const id = await ctx.createTd()
    await expectAnswer(ctx.send('DELETE', `/v1/tds/${id}?force=true`), 204)
    await expectAnswer(ctx.app.request(`/v1/tds/${id}`), 404, 'E_NO_TD')
    await expectAnswer(ctx.send('DELETE', `/v1/tds/${id}?force=maybe`), 400, 'E_VALIDATION')
  })
})

describe('scenario runner and openapi', () => {
  it('runs scenarios through the runner it is given', async () => {
    const texts: string[] = []
    const report: ScenarioReport = {
      version: 1,
      scenario: 'stub',
      seed: 0,
      passed: 0,
      failed: 0,
      steps: [],
      stats: { vtlSwitches: 0, tdcalls: {}, hypervisorCalls: {} },
    }
    const ctx = setup({
      runScenario: (text) => {
        texts.push(text)
        return Promise.resolve(report)
      },
    })
    const response = await ctx.app.request('/v1/scenarios/run', {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: 'version: 1',
    })
    expect(await expectAnswer(response, 200)).toEqual(report)
    expect(texts).toEqual(['version: 1'])
  })

  it('lists every route in /openapi.json', async () => {
    const doc = (await setup().get('/openapi.json')) as { paths: Record<string, object> }
    const routes = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`)
    )
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /v1/tds',
        'GET /v1/tds',
        'GET /v1/tds/{id}',
        'DELETE /v1/tds/{id}',
        'GET /v1/tds/{id}/status',
        'POST /v1/tds/{id}/hypercall',
        'POST /v1/tds/{id}/steps',
        'POST /v1/tds/{id}/vsm/enable-partition-vtl',
        'POST /v1/tds/{id}/vsm/enable-vp-vtl',
        'POST /v1/tds/{id}/vsm/start-vp',
        'GET /v1/tds/{id}/vsm/partition-config',
        'PUT /v1/tds/{id}/vsm/partition-config',
        'POST /v1/tds/{id}/memory/protect',
        'POST /v1/tds/{id}/memory/share',
        'POST /v1/tds/{id}/memory/unshare',
        'POST /v1/tds/{id}/memory/accept',
        'GET /v1/tds/{id}/memory/runs',
        'GET /v1/tds/{id}/trace',
        'GET /v1/tds/{id}/trace/events',
        'GET /v1/tds/{id}/snapshot',
        'POST /v1/tds/restore',
        'POST /v1/scenarios/run',
      ])
    )
  })
})
