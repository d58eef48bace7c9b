import { describe, expect, it } from 'vitest'
import { createConcurrencyCampaign } from '../src/concurrency.js'
import { InvariantLog } from '../src/invariant-log.js'
import { runCampaign } from '../src/runner.js'

describe('concurrency campaign', () => {
  it('parallel rounds under many-VP contention hold the sim invariants', async () => {
    const summary = await runCampaign(createConcurrencyCampaign(), { runs: 2, progress: false })
    expect(summary.failed).toEqual([])
    expect(summary.invariants['EnableVpVtl wins equal vtl1_enable_called']).toBeGreaterThan(0)
    expect(summary.outcomes['racing enables']).toBeGreaterThan(0)
  })

  // A round whose workers waited for each other until the deadline (stranded VPs; sim fixed).
  it('regression: seed 27', async () => {
    const log = new InvariantLog()
    await createConcurrencyCampaign().run(27, log)
    expect(log.violations).toEqual([])
  })

  it('detects an acknowledged protection change missing from the GPA space', async () => {
    const campaign = createConcurrencyCampaign({
      tamper: (run) => {
        // Lose VP 0's protection page state behind the host owner's back.
        const page = 16n * 4096n
        const vtl0 = run.td.space.stateOf(page).vtl0 === 1 ? 0xf : 1
        run.td.space.mark(
          { start: page, end: page + 4096n },
          {
            accepted: true,
            shared: false,
            vtl0,
            vtl1: 0xf,
          }
        )
      },
    })
    const log = new InvariantLog()
    await campaign.run(5, log)
    expect(
      log.violations.some((v) =>
        v.startsWith('acknowledged protection changes are in the GPA space')
      )
    ).toBe(true)
    expect(log.violations.some((v) => v.startsWith('memory map equals the Secure-EPT'))).toBe(true)
  })
})
