import { defineSuite } from '@vtl/bench-kit'
import { dispatchHypercall } from '@vtl/core'
import { performStep } from '../src/guest/perform.js'
import { parseScenario } from '../src/scenario/parse.js'
import type { GuestAction } from '../src/scenario/types.js'
import { SimTd } from '../src/td/sim-td.js'

// A TD with VTL1 Active on VP 0, parked in VTL0: every round trip is VtlCall then VtlReturn.
function readyTd(): SimTd {
  const td = new SimTd({ vps: 1, memory: 64n << 20n, traceEvents: false })
  const setup = parseScenario(`version: 1
partition: { vps: 1, memory: 64MiB }
steps:
  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1 } } }
  - { vp: 0, hypercall: { name: EnableVpVtl, input: {} } }`)
  for (const step of setup.steps) performStep(td, 0, step.action)
  return td
}

const roundTripTd = readyTd()
const vtlCall: GuestAction = { kind: 'vtlCall', input: 0n }
const vtlReturn: GuestAction = { kind: 'vtlReturn', fast: true }

const dispatchTd = readyTd()
// An unknown call code: table lookup, #completion, RIP advance — the dispatcher's floor.
const emptyRequest = { vp: 0, control: 0x7fffn }

/** §4.6 on a 1024-VP TD: the BSP enables VTL1 and enters it, VTL1 enables and starts every AP,
 * and each AP runs VTL1 first, then VtlReturns into VTL0. */
const VPS = 1024
function bootPlan(): { vp: number; action: GuestAction }[] {
  const lines = [
    '  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1, flags: { enableMbec: true } } } }',
    '  - { vp: 0, hypercall: { name: EnableVpVtl, input: {} } }',
    '  - { vp: 0, vtlCall: {} }',
  ]
  for (let n = 1; n < VPS; n++) {
    lines.push(`  - { vp: 0, hypercall: { name: EnableVpVtl, input: { vpIndex: ${n} } } }`)
    lines.push(
      `  - { vp: 0, hypercall: { name: StartVirtualProcessor, input: { vpIndex: ${n} } } }`
    )
  }
  for (let n = 1; n < VPS; n++) {
    lines.push(`  - { vp: ${n}, run: {} }`, `  - { vp: ${n}, vtlReturn: {} }`)
  }
  const scenario = parseScenario(
    `version: 1\npartition: { vps: ${VPS}, memory: 4GiB, startedVps: [0] }\nsteps:\n${lines.join('\n')}`
  )
  return scenario.steps.map((s) => ({ vp: s.vp, action: s.action }))
}
const plan = bootPlan()

export default defineSuite({
  name: 'sim',
  cases: [
    {
      id: 'sim.empty-dispatch',
      kind: 'throughput',
      baselineOnly: true,
      note: 'dispatchHypercall of an unknown call code on the TD engine (the dispatcher floor)',
      op: () => dispatchHypercall(dispatchTd.engine, emptyRequest),
    },
    {
      id: 'sim.vtl-round-trip',
      kind: 'throughput',
      baseline: 'sim.empty-dispatch',
      target: { value: 1_000_000, unit: 'ops/s' },
      note: 'VtlCall + VtlReturn guest steps on the simulated TD, one thread: TDG.VP.ENTER through the fault injector into the software TDX module, the guest exit, the engine, report counters and costs (trace events off)',
      op: () => {
        performStep(roundTripTd, 0, vtlCall)
        performStep(roundTripTd, 0, vtlReturn)
      },
    },
    {
      id: 'sim.boot-1024',
      kind: 'value',
      unit: 'ms',
      better: 'lower',
      target: { value: 100, unit: 'ms' },
      note: 'create a 1024-VP, 4 GiB TD and run the canonical boot: the BSP enables VTL1 and VtlCalls, VTL1 enables and starts 1023 APs, each AP runs VTL1 then VtlReturns (2047 contexts, ~84k TDG.VP.WR)',
      sample: () => {
        const start = performance.now()
        const td = new SimTd({ vps: VPS, memory: 4n << 30n, startedVps: [0], traceEvents: false })
        for (const step of plan) performStep(td, step.vp, step.action)
        return performance.now() - start
      },
    },
  ],
})
