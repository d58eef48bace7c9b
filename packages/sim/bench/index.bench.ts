import { defineSuite } from '@vtl/bench-kit'
import {
  TdcallLeaf,
  VmcsField,
  dispatchHypercall,
  vmcsFieldCode,
  type HypercallRequest,
  type TdcallInput,
} from '@vtl/core'
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

// The engine's own round trip (engine.vtl-round-trip's workload: two dispatches, no entry
// preparation), on the engine of a TD like the one above, measured in this process.
const engineTd = readyTd()
const engineCall: HypercallRequest = { vp: 0, control: 0x11n, vtlInput: 0n }
const engineReturn: HypercallRequest = { vp: 0, control: 0x12n, vtlInput: 1n }
function engineRoundTrip(): unknown {
  dispatchHypercall(engineTd.engine, engineCall)
  return dispatchHypercall(engineTd.engine, engineReturn)
}
function simRoundTrip(): unknown {
  performStep(roundTripTd, 0, vtlCall)
  return performStep(roundTripTd, 0, vtlReturn)
}

// TDG.VP.WR of whole guest-state fields of VMCS #1 and #2 on VP 1, through the TD's TDCALL port
// (fault injector, module, per-leaf counters and costs): the call an initial context makes ~43
// times. The fields cycle so that each write changes the stored value.
const wrTd = new SimTd({ vps: 2, memory: 64n << 20n, traceEvents: false })
const WR_FIELDS = [VmcsField.GUEST_CR3, VmcsField.GUEST_CR4, VmcsField.GUEST_CS_BASE] as const
const wrInputs: TdcallInput[] = ([0, 1] as const).flatMap((vm) =>
  WR_FIELDS.map((encoding) => ({
    leaf: TdcallLeaf['TDG.VP.WR'],
    rcx: 0n,
    rdx: vmcsFieldCode(vm, encoding),
    r8: 0n,
    r9: 0xffff_ffff_ffff_ffffn,
  }))
)
let wrNext = 0
function vpWr(): unknown {
  const input = wrInputs[wrNext % wrInputs.length] as TdcallInput
  input.r8 = BigInt(wrNext++ & 0xfff) << 12n
  return wrTd.tdx.tdcall(1, input)
}

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
      id: 'sim.engine-vtl-round-trip',
      kind: 'throughput',
      baselineOnly: true,
      note: "engine.vtl-round-trip's workload (VtlCall + fast VtlReturn through dispatchHypercall) on a TD's engine, in this process",
      op: engineRoundTrip,
    },
    {
      id: 'sim.vtl-round-trip',
      kind: 'throughput',
      baseline: 'sim.empty-dispatch',
      target: { value: 2_000_000, unit: 'ops/s' },
      note: 'VtlCall + VtlReturn guest steps on the simulated TD, one thread: TDG.VP.ENTER through the fault injector into the software TDX module, the guest exit, the engine, report counters and costs (trace events off)',
      op: simRoundTrip,
    },
    {
      id: 'sim.vtl-round-trip-vs-engine',
      kind: 'throughput',
      baseline: 'sim.engine-vtl-round-trip',
      target: { value: 0.7, unit: '×' },
      note: "sim.vtl-round-trip's workload again, against the engine's own round trip (engine.vtl-round-trip's workload) measured in this process: what the software TD adds to the engine it wraps",
      op: simRoundTrip,
    },
    {
      id: 'sim.tdcall-vp-wr',
      kind: 'throughput',
      note: "TDG.VP.WR of one whole VMCS guest-state field (CR3, CR4, CS base on VMCS #1 and #2 in turn) through the TD's TDCALL port: fault injector, software TDX module, per-leaf counters and costs",
      op: vpWr,
    },
    {
      id: 'sim.boot-1024',
      kind: 'value',
      unit: 'ms',
      better: 'lower',
      target: { value: 25, unit: 'ms' },
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
