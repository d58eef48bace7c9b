import { dispatchHypercall, VtlError, type HvStatus } from '@vtl/core'
import { describe, expect, it } from 'vitest'
import { createFuzzCampaign, FUZZ_INPUTS_PER_RUN } from '../src/fuzz.js'
import { InvariantLog } from '../src/invariant-log.js'
import { runCampaign } from '../src/runner.js'

describe('fuzz campaign', () => {
  it('thousands of random and mutated hypercalls: HvStatus, #UD/#GP or typed errors only', async () => {
    const summary = await runCampaign(createFuzzCampaign(), { runs: 200, progress: false })
    expect(summary.failed).toEqual([])
    expect(summary.items).toBe(200 * FUZZ_INPUTS_PER_RUN)
    expect(summary.invariants['every status is an HvStatus']).toBeGreaterThan(0)
    expect(summary.invariants['exceptions are #UD or #GP']).toBeGreaterThan(0)
    // The inputs reach the handlers, not only the generic checks.
    expect(summary.outcomes['status Success']).toBeGreaterThan(0)
    expect(summary.outcomes['vtl-switch']).toBeGreaterThan(0)
    expect(summary.outcomes['from VTL0']).toBeGreaterThan(0)
    expect(summary.outcomes['from VTL1']).toBeGreaterThan(0)
  })

  const plants = [
    { name: 'an untyped throw', error: new TypeError('planted'), violation: 'no untyped error' },
    {
      name: 'a status that is no HvStatus',
      outcome: 'bad-status' as const,
      violation: 'every status is an HvStatus',
    },
  ]
  it.each(plants)('detects $name', async (plant) => {
    let calls = 0
    const campaign = createFuzzCampaign({
      dispatch: (engine, request) => {
        const outcome = dispatchHypercall(engine, request)
        if (++calls !== 50) return outcome
        if (plant.error !== undefined) throw plant.error
        return {
          ...outcome,
          kind: 'completed',
          status: 0x7777 as HvStatus,
          repsCompleted: 0,
        } as typeof outcome
      },
    })
    const log = new InvariantLog()
    await campaign.run(3, log)
    expect(log.violations.some((v) => v.startsWith(plant.violation))).toBe(true)
  })

  it('a typed error is an allowed outcome, tallied by code', async () => {
    let calls = 0
    const campaign = createFuzzCampaign({
      dispatch: (engine, request) => {
        if (++calls === 10) throw new VtlError('E_TDX_STATUS', 'planted panic')
        return dispatchHypercall(engine, request)
      },
    })
    const log = new InvariantLog()
    expect(await campaign.run(3, log)).toBe(FUZZ_INPUTS_PER_RUN)
    expect(log.violations).toEqual([])
    expect(log.outcomes.get('typed error E_TDX_STATUS')).toBe(1)
  })
})
