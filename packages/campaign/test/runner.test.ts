import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { InvariantLog } from '../src/invariant-log.js'
import { runCampaign, summaryLine, writeSummary, type Campaign } from '../src/runner.js'

/** Fails seeds divisible by 3 (a violation) and throws on seeds divisible by 5. */
function fake(defaultRuns = 10, defaultBudgetSeconds = Number.POSITIVE_INFINITY): Campaign {
  return {
    name: 'fake',
    unit: 'thing',
    defaultRuns,
    defaultBudgetSeconds,
    run(seed: number, log: InvariantLog): number {
      if (seed % 5 === 0) throw new TypeError(`boom ${seed}`)
      log.check('seed not divisible by 3', seed % 3 !== 0, () => `seed ${seed}`)
      log.tally('runs seen')
      return 2
    },
  }
}

describe('runCampaign', () => {
  it('runs seeds seed..seed+runs-1 and records every failing seed with its violations', async () => {
    const summary = await runCampaign(fake(), { seed: 1, progress: false })
    expect(summary.runs).toBe(10)
    expect(summary.failedSeeds).toEqual([3, 5, 6, 9, 10])
    expect(summary.failed[0]).toEqual({
      seed: 3,
      violations: ['seed not divisible by 3: seed 3'],
      more: 0,
    })
    expect(summary.failed[1]?.violations[0]).toMatch(/^no uncaught error: TypeError: boom 5/)
    expect(summary.items).toBe(2 * 8)
    expect(summary.invariants).toEqual({ 'seed not divisible by 3': 8 })
    expect(summary.outcomes).toEqual({ 'runs seen': 8 })
    expect(summary.replay).toBe('pnpm campaign fake --seed 3 --runs 1')
    expect(summary.machine.cpus).toBeGreaterThan(0)
    expect(summaryLine(summary)).toMatch(
      /^fake: 10 runs \(16 things\), 5 failures, .*failing seeds 3, 5, 6, 9, 10/
    )
  })

  it('--seed N --runs 1 replays exactly one run', async () => {
    const summary = await runCampaign(fake(), { seed: 9, runs: 1, progress: false })
    expect(summary.runs).toBe(1)
    expect(summary.failedSeeds).toEqual([9])
  })

  it('a budget bounds time instead of the count; a zero budget runs nothing', async () => {
    const none = await runCampaign(fake(), { budgetSeconds: 0, progress: false })
    expect(none.runs).toBe(0)
    expect(none.budgetSeconds).toBe(0)
    const capped = await runCampaign(fake(), { budgetSeconds: 60, runs: 4, progress: false })
    expect(capped.runs).toBe(4)
  })

  it('refuses a campaign bounded by neither count nor time', async () => {
    await expect(runCampaign(fake(Number.POSITIVE_INFINITY), { progress: false })).rejects.toThrow(
      /neither/
    )
  })

  it('writes the summary as JSON', async () => {
    const summary = await runCampaign(fake(), { runs: 2, progress: false })
    const file = join(mkdtempSync(join(tmpdir(), 'campaign-')), 'out', 'fake.json')
    writeSummary(summary, file)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(summary)
  })
})
