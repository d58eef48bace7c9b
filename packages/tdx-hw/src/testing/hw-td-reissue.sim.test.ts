import { FaultInjector, UntrustedHypervisor, parseScenario, runScenario } from '@vtl/sim'
import { describe, expect, it } from 'vitest'
import { HwTd } from './hw-td.js'

// A call the engine tells the guest to retry (core's `retry` outcome: a host Timeout) is reissued
// by the VP's next step on the hardware path exactly as on the simulator.

const SCENARIO = parseScenario(`version: 1
partition: { vps: 2, memory: 8MiB }
steps:
  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1 } } }
  - { vp: 1, run: {} }
  - { vp: 0, run: {} }
  - { vp: 0, run: {} }
  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1 } } }
`)

/** The host answers the first `times` EnablePartitionVtl calls with Timeout. */
function arm(faults: FaultInjector, times: number): void {
  for (let i = 0; i < times; i++) faults.arm({ at: 'EnablePartitionVtl', status: 'Timeout' })
}

describe('HwTd reissues a call it was told to retry', () => {
  it.each([1, 2])('host Timeout %i time(s): the same steps as on the simulator', async (times) => {
    const simFaults = new FaultInjector(0)
    arm(simFaults, times)
    const sim = runScenario(SCENARIO, { td: { faults: simFaults } }).steps.map((s) => s.result)

    const hwFaults = new FaultInjector(0)
    arm(hwFaults, times)
    const td = await HwTd.fromScenario(SCENARIO, {
      hypervisor: hwFaults.wrapHypervisor(new UntrustedHypervisor({ vps: 2 })),
    })
    const hw = []
    const runnable = []
    for (const step of SCENARIO.steps) {
      hw.push((await td.step(step.vp, step.action)).result)
      runnable.push(td.runnable(0))
    }
    await td.close()

    expect(hw).toEqual(sim)
    expect(hw[0]).toMatchObject({ blocked: true })
    // Still told to retry: VpBlocked and nothing else; then the reissue completes first.
    const resumedAt = times
    for (let i = 2; i < 2 + times - 1; i++) expect(hw[i]).toMatchObject({ error: 'VpBlocked' })
    expect(hw[1 + resumedAt]).toMatchObject({ resumed: 'Success' })
    expect(runnable.slice(0, 1 + resumedAt)).toEqual(Array(1 + resumedAt).fill('VpBlocked'))
    expect(hw[4]).toMatchObject({ status: 'InvalidVtlState' })
  })
})
