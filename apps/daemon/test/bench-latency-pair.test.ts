import { describe, expect, it } from 'vitest'
import { defineSuite, runSuite } from '@vtl/bench-kit'
import { latencyPair } from '../bench/latency-pair.js'

// The daemon bench's EnableVpVtl p50 and p99 of a recorded round come from one run, whatever
// number of warm-up samples bench-kit takes (review MEDIUM 3).

describe('latencyPair', () => {
  it('pairs each recorded p99 with the p50 of the same run, p99 case first', async () => {
    const runs: number[] = []
    // Run n: p50 = n, p99 = n + 0.5. Paired rounds have means exactly 0.5 apart.
    const measure = () => {
      runs.push(runs.length)
      const n = runs.length - 1
      return Promise.resolve({ p50: n, p99: n + 0.5 })
    }
    const cases = latencyPair((p) => `t.${p}`, measure, 'note', { value: 10, unit: 'ms' })
    expect(cases.map((c) => c.id)).toEqual(['t.p99', 't.p50'])
    expect(cases[0].target).toEqual({ value: 10, unit: 'ms' })
    expect(cases[1].target).toBeUndefined()
    const results = await runSuite(defineSuite({ name: 't', samples: 4, cases }))
    const [p99, p50] = results.map((r) => r.value)
    expect(p99).toBe((p50 ?? NaN) + 0.5)
    // Warm-ups: p99 measures each of its own; p50's first takes the last p99 run's, then measures.
    // Each recorded round is one run: the four last ones.
    expect(p50).toBe((runs.length - 4 + runs.length - 1) / 2)
  })

  it('the p50 case measures its own run when no p99 run is left', async () => {
    let runs = 0
    const [p99, p50] = latencyPair(
      (p) => p,
      () => Promise.resolve({ p50: ++runs, p99: 100 + runs }),
      'note'
    )
    expect(await p50.sample()).toBe(1)
    expect(await p99.sample()).toBe(102)
    expect(await p50.sample()).toBe(2)
    expect(await p50.sample()).toBe(3)
    expect(runs).toBe(3)
  })
})
