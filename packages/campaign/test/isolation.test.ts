import { GpaVmAttr } from '@vtl/core'
import { tdxModulePlanSink, type SimTd } from '@vtl/sim'
import { describe, expect, it } from 'vitest'
import { InvariantLog } from '../src/invariant-log.js'
import { createIsolationCampaign } from '../src/isolation.js'
import { runCampaign } from '../src/runner.js'

describe('isolation campaign', () => {
  it('hundreds of guest programs: VTL0 never gets past what VTL1 took', async () => {
    const summary = await runCampaign(createIsolationCampaign(), { runs: 300, progress: false })
    expect(summary.failed).toEqual([])
    for (const access of ['read', 'write', 'execute']) {
      expect(summary.outcomes[`VTL0 ${access} denied`], access).toBeGreaterThan(0)
      expect(summary.outcomes[`VTL0 ${access} allowed`], access).toBeGreaterThan(0)
    }
    expect(summary.invariants['VTL0 never observes a VTL1-private register value']).toBeGreaterThan(
      0
    )
  })

  // Planted violations: hardware that lets VTL0 through, a secret leaked into VTL0's registers.
  const plants = [
    {
      name: 'a Secure EPT that grants VTL0 everything',
      violation: 'VTL0 may access exactly what VTL1 left it',
      tamper: (td: SimTd) => {
        // Behind the paravisor's back: TDG.MEM.PAGE.ATTR.WR on the module alone (no map update).
        const sink = tdxModulePlanSink(td.module)
        const attr = GpaVmAttr.VALID | GpaVmAttr.R | GpaVmAttr.W | GpaVmAttr.Xs | GpaVmAttr.Xu
        const write = (gpn: number, level: 0 | 1) =>
          sink.execute({ kind: 'attr-write', gpn: BigInt(gpn), level, vtl: 0, attr, mask: 0xf })
        if (write(0, 1) !== 0n) for (let gpn = 0x100; gpn < 0x108; gpn++) write(gpn, 0)
      },
    },
    {
      name: 'a VTL1-private value in VTL0-visible registers',
      violation: 'VTL0-visible shared registers hold no VTL1-private value',
      tamper: (td: SimTd) => {
        td.engine.vp(2).shared.rbx = 0x5ec0_0000_1000n
      },
    },
  ]
  it.each(plants)('detects $name', async ({ violation, tamper }) => {
    const campaign = createIsolationCampaign({
      tamper: (td, i) => {
        if (i === 0) tamper(td)
      },
    })
    let found = false
    for (let seed = 1; seed <= 20 && !found; seed++) {
      const log = new InvariantLog()
      await campaign.run(seed, log)
      found = log.violations.some((v) => v.startsWith(violation))
    }
    expect(found).toBe(true)
  })
})
