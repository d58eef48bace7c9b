import { fileURLToPath } from 'node:url'
import { VtlError } from '@vtl/core'
import { describe, expect, it } from 'vitest'
import { FaultInjector } from '../faults/fault-injector.js'
import { loadScenarioFile } from '../scenario/parse.js'
import { runScenario } from '../scenario/run.js'
import type { SimTd } from './sim-td.js'

const dir = fileURLToPath(new URL('../../scenarios/', import.meta.url))

describe('random fault injection', () => {
  it('turns every injected failure into a guest-visible outcome, never a crash', async () => {
    const scenario = await loadScenarioFile(dir + 'canonical-boot.yaml')
    let mismatched = 0
    for (let seed = 0; seed < 60; seed++) {
      const faults = new FaultInjector(seed)
      // Not the memory plan leaves: a failed undo there is OpenHCL's panic (a thrown VtlError).
      faults.random({
        rate: 0.05,
        tdcallStatuses: ['TDX_OPERAND_BUSY', 'TDX_OPERAND_INVALID'],
        hypercallStatuses: ['InsufficientMemory', 'InvalidVtlState'],
        leaves: ['TDG.VP.WR', 'TDG.VP.ENTER'],
      })
      let td: SimTd | undefined
      const report = runScenario(scenario, { td: { faults }, onTd: (t) => (td = t) })
      if (report.failed > 0) mismatched++
      // The enable state machine holds whatever failed (§4.3).
      for (const vp of td?.engine.vps ?? []) {
        if (vp.vtl1 !== undefined) expect(td?.engine.shared.vtl1EnableCalled(vp.index)).toBe(true)
      }
      // A VP is enabled only after the host accepted its EnableVpVtl (§4.1 steps 9–10).
      const enabled = (td?.engine.vps ?? []).filter((vp) =>
        td?.engine.shared.vtl1EnableCalled(vp.index)
      ).length
      expect(report.stats.hypervisorCalls.EnableVpVtl ?? 0).toBeGreaterThanOrEqual(enabled)
    }
    // Faults do change outcomes (the test would pass vacuously otherwise).
    expect(mismatched).toBeGreaterThan(0)
  })

  it('a failed undo of a memory plan (OpenHCL panics) surfaces as a VtlError', async () => {
    const scenario = await loadScenarioFile(dir + 'canonical-boot.yaml')
    const outcomes = new Set<string>()
    for (let seed = 0; seed < 200; seed++) {
      const faults = new FaultInjector(seed)
      faults.random({
        rate: 0.05,
        tdcallStatuses: ['TDX_OPERAND_BUSY', 'TDX_OPERAND_INVALID'],
        hypercallStatuses: [],
      })
      try {
        runScenario(scenario, { td: { faults } })
        outcomes.add('report')
      } catch (error) {
        expect(VtlError.isInstance(error)).toBe(true)
        outcomes.add('VtlError')
      }
    }
    expect(outcomes.has('report')).toBe(true)
  })
})
