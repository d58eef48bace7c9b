import { describe, expect, it } from 'vitest'
import { runParallel } from './runner.js'

// Found by the concurrency campaign (@vtl/campaign, seed 27): every worker held a VP that was
// started into VTL1 (StartVp(VTL1)), returned to a VTL0 that was never started and waited for
// SIPI forever; each worker waited for the other to finish, so the run hit its deadline.
describe('parallel mode: VPs stranded in VTL0 wait-for-SIPI', () => {
  it('end the run instead of making the workers wait for each other', async () => {
    const run = await runParallel({
      vps: 8,
      workers: 2,
      timeoutMs: 30_000,
      workload: { seed: 27, stepsPerVp: 189, protectShare: 0.5, crossShare: 0.4 },
    })
    expect(run.violations).toEqual([])
    // The round did strand VPs: some never ran all their steps.
    expect(run.steps).toBeLessThan(8 * 189)
  }, 60_000)
})
