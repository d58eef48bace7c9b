import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import type { InvariantLog } from '../src/invariant-log.js'
import { runCampaign, type Campaign } from '../src/runner.js'
import { parseShard, shardOfRun, shardRuns, shardShare } from '../src/shard.js'

describe('parseShard', () => {
  it.each([
    ['1/1', { index: 1, count: 1 }],
    ['2/4', { index: 2, count: 4 }],
    ['4/4', { index: 4, count: 4 }],
    [' 10/128 ', { index: 10, count: 128 }],
  ])('%s', (text, shard) => {
    expect(parseShard(text)).toEqual(shard)
  })

  it.each(['0/4', '5/4', '1/0', '0/0', '1', '1/', '/4', '-1/4', '1.5/4', '1/4/2', 'a/b', ''])(
    'refuses %j with E_INVALID_VALUE',
    (text) => {
      expect(() => parseShard(text)).toThrow(expect.objectContaining({ code: 'E_INVALID_VALUE' }))
    }
  )
})

describe('the split of run indexes', () => {
  test.prop([fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 17 })])(
    'the n shards of N runs perform each run 0…N−1 exactly once, the one shardOfRun names',
    (runs, count) => {
      const seen: number[] = []
      for (let index = 1; index <= count; index++) {
        const mine = [...shardRuns({ index, count }, runs)]
        expect(mine).toHaveLength(shardShare({ index, count }, runs))
        for (const run of mine) expect(shardOfRun(run, count)).toBe(index)
        seen.push(...mine)
      }
      expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: runs }, (_, i) => i))
    }
  )

  it('without a run count a shard deals out its indexes without end', () => {
    const runs = shardRuns({ index: 3, count: 4 }, Number.POSITIVE_INFINITY)
    expect(Array.from({ length: 4 }, () => runs.next().value)).toEqual([2, 6, 10, 14])
    expect(shardShare({ index: 3, count: 4 }, Number.POSITIVE_INFINITY)).toBe(
      Number.POSITIVE_INFINITY
    )
  })
})

/** Records the seeds it ran. */
function recorder(): Campaign & { seeds: number[] } {
  const seeds: number[] = []
  return {
    name: 'rec',
    unit: 'thing',
    defaultRuns: 10,
    defaultBudgetSeconds: Number.POSITIVE_INFINITY,
    seeds,
    run(seed: number, log: InvariantLog): number {
      seeds.push(seed)
      log.check('ran', true)
      return 1
    },
  }
}

describe('runCampaign with a shard', () => {
  it('runs the shard’s seeds and says which shard it was', async () => {
    const campaign = recorder()
    const summary = await runCampaign(campaign, {
      seed: 100,
      runs: 10,
      shard: { index: 2, count: 3 },
      progress: false,
    })
    expect(campaign.seeds).toEqual([101, 104, 107])
    expect(summary).toMatchObject({ shard: { index: 2, count: 3 }, runs: 3, plannedRuns: 10 })
  })

  it('with a time budget a shard runs its own share until the budget ends', async () => {
    const campaign = recorder()
    const summary = await runCampaign(campaign, {
      seed: 1,
      budgetSeconds: 0.05,
      shard: { index: 1, count: 4 },
      progress: false,
    })
    expect(summary.plannedRuns).toBeNull()
    expect(campaign.seeds.length).toBeGreaterThan(0)
    expect(campaign.seeds).toEqual(campaign.seeds.map((_, i) => 1 + 4 * i))
  })

  it('an unsharded summary has no shard field', async () => {
    const summary = await runCampaign(recorder(), { runs: 2, progress: false })
    expect(summary.shard).toBeUndefined()
    expect(summary.plannedRuns).toBe(2)
  })
})
