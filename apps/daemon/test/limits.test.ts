import { describe, expect, it } from 'vitest'
import { TdService } from '../src/td-service.js'
import { expectAnswer, setup } from './routes-helpers.js'

// Issue 15, findings 6 and 7: no limit on TDs or their size (the 65th 1024-VP TD ran the heap
// out), and unbounded work per request on the daemon's one thread. Bounded counts only.

describe('daemon limits', () => {
  it('TDs, VPs and memory over all TDs: 409 E_LIMIT naming the limit, nothing created', async () => {
    const tds = new TdService(undefined, {
      limits: { maxTds: 3, maxVps: 8, maxMemory: 64n << 20n },
    })
    const ctx = setup({ tds })
    await ctx.createTd({ vps: 4, memory: '16MiB' })
    const vps = await expectAnswer(ctx.post('/v1/tds', { vps: 5, memory: '1MiB' }), 409, 'E_LIMIT')
    expect(vps.detail).toMatch(/maxVps \(8 VPs over all TDs; 4 in use\)/)
    const memory = await expectAnswer(
      ctx.post('/v1/tds', { vps: 1, memory: '64MiB' }),
      409,
      'E_LIMIT'
    )
    expect(memory.detail).toMatch(/maxMemory/)
    await ctx.createTd({ vps: 1, memory: '1MiB' })
    const id = await ctx.createTd({ vps: 1, memory: '1MiB' })
    const count = await expectAnswer(
      ctx.post('/v1/tds', { vps: 1, memory: '1MiB' }),
      409,
      'E_LIMIT'
    )
    expect(count.detail).toMatch(/maxTds \(3 TDs\)/)
    // A restore counts the same way.
    const snapshot = await ctx.get(`/v1/tds/${id}/snapshot`)
    await expectAnswer(ctx.post('/v1/tds/restore', { snapshot }), 409, 'E_LIMIT')
    expect(((await ctx.get('/v1/tds')) as { tds: unknown[] }).tds).toHaveLength(3)
    // Deleting one frees its share.
    await expectAnswer(ctx.send('DELETE', `/v1/tds/${id}`), 204)
    await expectAnswer(ctx.post('/v1/tds/restore', { snapshot }), 201)
  })

  it('a request costing more than maxRequestCost: 413 E_TOO_COSTLY before any of it runs', async () => {
    const tds = new TdService(undefined, { limits: { maxRequestCost: 1200 } })
    const ctx = setup({ tds })
    const id = await ctx.createTd({ vps: 1, memory: '64MiB' })
    const before = await ctx.get(`/v1/tds/${id}/snapshot`)
    // 8 MiB: 2048 pages, one rep each.
    const big = await expectAnswer(
      ctx.post(`/v1/tds/${id}/memory/share`, { vp: 0, start: 0, size: '8MiB' }),
      413,
      'E_TOO_COSTLY'
    )
    expect(big.detail).toMatch(/costs 2048 .* maxRequestCost 1200/)
    const steps = Array.from({ length: 1201 }, () => ({ vp: 0, run: {} }))
    await expectAnswer(ctx.post(`/v1/tds/${id}/steps`, { steps }), 413, 'E_TOO_COSTLY')
    expect(await ctx.get(`/v1/tds/${id}/snapshot`)).toEqual(before)
    // Within the limit it runs.
    const small = await expectAnswer(
      ctx.post(`/v1/tds/${id}/memory/share`, { vp: 0, start: 0, size: '4MiB' }),
      200
    )
    expect(small).toMatchObject({ status: 'Success', processed: 1024 })
  })
})
