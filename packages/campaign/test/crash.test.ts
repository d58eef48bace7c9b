import { describe, expect, it } from 'vitest'
import { createCrashCampaign } from '../src/crash.js'
import { InvariantLog } from '../src/invariant-log.js'
import { runCampaign } from '../src/runner.js'

describe('crash campaign (vtld child processes, kill -9)', () => {
  it('three cycles: every acknowledged mutation survives, state equals the replay', async () => {
    const summary = await runCampaign(createCrashCampaign(), { runs: 3, progress: false })
    expect(summary.failed).toEqual([])
    expect(summary.outcomes['kill -9']).toBe(6)
    expect(summary.outcomes['acknowledged hypercalls']).toBeGreaterThan(0)
    expect(
      summary.invariants['state equals the replay of acknowledged + in-flight']
    ).toBeGreaterThan(0)
    // Two damaged copies per cycle: each refused with the way out, or served without loss.
    const damaged = Object.entries(summary.outcomes).filter(([k]) => k.startsWith('journal damage'))
    expect(damaged.reduce((sum, [, n]) => sum + n, 0)).toBe(6)
    expect(summary.outcomes['journal damage refused: one changed byte in a stored record']).toBe(3)
  }, 240_000)

  it('detects an acknowledged mutation the daemon does not have', async () => {
    const log = new InvariantLog()
    await createCrashCampaign({ phantom: true }).run(1, log)
    expect(log.violations.some((v) => v.startsWith('every acknowledged TD survives'))).toBe(true)
  }, 120_000)
})
