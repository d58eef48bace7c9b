import { defineSuite, type BenchCase } from '@vtl/bench-kit'
import { parseScenario, performStep, SimTd } from '@vtl/sim'
import {
  applyStartState,
  buildLoaderTables,
  loadImages,
  unicornAvailability,
  X86Vp,
  type X86Exit,
} from '../src/index.js'

// The scripted baseline: VtlCall + VtlReturn on the simulated TD (as sim's own suite measures it).
function readySimTd(): SimTd {
  const td = new SimTd({ vps: 1, memory: 64n << 20n, traceEvents: false })
  const setup = parseScenario(`version: 1
partition: { vps: 1, memory: 64MiB }
steps:
  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1 } } }
  - { vp: 0, hypercall: { name: EnableVpVtl, input: {} } }`)
  for (const step of setup.steps) performStep(td, 0, step.action)
  return td
}

/** A VP in the start state running `hex` (a flat image at 1 MiB) on 16 MiB of RAM. */
function bootX86(hex: string): X86Vp {
  const ram = Buffer.alloc(16 << 20)
  const layout = buildLoaderTables(ram)
  loadImages(ram, [{ gpa: 0x10_0000n, hex }])
  const vp = new X86Vp({ ram })
  applyStartState(vp.context(0), layout, { rip: 0x10_0000n, rsp: 0x8_0000n })
  return vp
}

const MIPS_INSTRUCTIONS = 2_000_000

function x86Cases(): BenchCase[] {
  const simTd = readySimTd()
  const vtlCall = { kind: 'vtlCall', input: 0n } as const
  const vtlReturn = { kind: 'vtlReturn', fast: true } as const
  // vmcall; jmp back to it
  const exitsVp = bootX86('0f01c1ebfb')
  const exits = exitsVp.context(0)
  // inc rax; jmp back to it
  const computeVp = bootX86('48ffc0ebfb')
  return [
    {
      id: 'sim.vtl-round-trip',
      kind: 'throughput',
      baselineOnly: true,
      op: () => {
        performStep(simTd, 0, vtlCall)
        performStep(simTd, 0, vtlReturn)
      },
    },
    {
      id: 'x86.vmcall-exits',
      kind: 'throughput',
      baseline: 'sim.vtl-round-trip',
      note: 'enter VTL0 on Unicorn → VMCALL exit at its RIP → the handler completes it (RIP += 3) → enter again',
      op: () => {
        const { exit } = exits.enter(1000)
        exits.skip(exit as Extract<X86Exit, { kind: 'vmcall' }>)
      },
    },
    {
      id: 'x86.mips',
      kind: 'value',
      unit: 'MIPS',
      better: 'higher',
      note: `millions of guest instructions per second: ${MIPS_INSTRUCTIONS} instructions of an inc/jmp loop in one entry (every instruction passes the backing's exit and counting hook)`,
      sample: () => {
        const start = process.hrtime.bigint()
        const { instructions } = computeVp.enter(0, MIPS_INSTRUCTIONS)
        const seconds = Number(process.hrtime.bigint() - start) / 1e9
        return instructions / seconds / 1e6
      },
    },
  ]
}

const availability = unicornAvailability()
if (!availability.available) console.warn(`x86 benchmarks skipped: ${availability.reason}`)

export default defineSuite({
  name: 'x86',
  samples: 10,
  cases: availability.available ? x86Cases() : [],
})
