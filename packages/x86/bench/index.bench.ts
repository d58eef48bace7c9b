import { defineSuite, type BenchCase } from '@vtl/bench-kit'
import { runVp, type VpRunOptions } from '@vtl/core'
import { createScenarioTd, parseScenario, performStep, SimTd } from '@vtl/sim'
import {
  applyStartState,
  buildLoaderTables,
  loadImages,
  unicornAvailability,
  x86ScenarioCpu,
  X86Vp,
  type X86Exit,
} from '../src/index.js'
import { nasm, nasmAvailable } from '../src/test/nasm.js'

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

/** A VP in the start state running `code` (a flat image at 1 MiB) on 16 MiB of RAM. */
function bootX86(code: Uint8Array): X86Vp {
  const ram = Buffer.alloc(16 << 20)
  const layout = buildLoaderTables(ram)
  loadImages(ram, [{ gpa: 0x10_0000n, bytes: code }])
  const vp = new X86Vp({ ram })
  applyStartState(vp.context(0), layout, { rip: 0x10_0000n, rsp: 0x8_0000n })
  return vp
}

const MIPS_INSTRUCTIONS = 2_000_000

/**
 * A TD whose VP 0 runs real code: VTL0 enables VTL1, then VtlCalls in a loop; VTL1 VtlReturns
 * in a loop. Returned after the enabling, with VTL0 about to make its first VtlCall.
 */
function readyX86Td(): SimTd {
  const head = '%include "vtl-guest.asm"\nbits 64\n'
  const vtl0 = nasm(`${head}org 0x100000
    HV_ENABLE_VTL1 0x200000, 0, 0x400000, 0x500000, fail
  again:
    VTL_CALL
    jmp again
  fail:
    VTL_EXIT 1`)
  const vtl1 = nasm(`${head}org 0x400000
  again:
    VTL_RETURN 1
    jmp again`)
  const scenario = parseScenario(`version: 1
partition:
  vps: 1
  memory: 16MiB
  cpu: x86
  images: [{ gpa: "0x100000", hex: "${vtl0.toString('hex')}" }, { gpa: "0x400000", hex: "${vtl1.toString('hex')}" }]
  entry: { rip: "0x100000", rsp: "0x80000" }
steps: [{ vp: 0, run: {} }]`)
  const td = createScenarioTd(scenario, { cpu: x86ScenarioCpu, td: { traceEvents: false } })
  td.l2Cpu?.startRun(0, Number.MAX_SAFE_INTEGER)
  // EnablePartitionVtl, EnableVpVtl and the RDMSR of EFER for VTL1's context: three exits.
  for (let i = 0; i < 3; i++) runVp(td.engine, td.backing, 0)
  return td
}

function x86Cases(): BenchCase[] {
  const simTd = readySimTd()
  const vtlCall = { kind: 'vtlCall', input: 0n } as const
  const vtlReturn = { kind: 'vtlReturn', fast: true } as const
  // vmcall; jmp back to it
  const exitsVp = bootX86(Buffer.from('0f01c1ebfb', 'hex'))
  const exits = exitsVp.context(0)
  // inc rax; jmp back to it
  const computeVp = bootX86(Buffer.from('48ffc0ebfb', 'hex'))
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
    ...(nasmAvailable() ? [tdRoundTrip()] : []),
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

const PREPARED: VpRunOptions = { prepared: true }

/** VtlCall + VtlReturn made by guest code, through TDG.VP.ENTER, the loop and the engine. */
function tdRoundTrip(): BenchCase {
  const td = readyX86Td()
  return {
    id: 'x86.td-vtl-round-trip',
    kind: 'throughput',
    baseline: 'sim.vtl-round-trip',
    note: "guest code's VtlCall and VtlReturn on the software TD: VMCALL exits of real VTL0/VTL1 code through TDG.VP.ENTER, core's VP loop and the engine (two passes per round trip)",
    op: () => {
      runVp(td.engine, td.backing, 0, PREPARED)
      runVp(td.engine, td.backing, 0, PREPARED)
    },
  }
}

const availability = unicornAvailability()
if (!availability.available) console.warn(`x86 benchmarks skipped: ${availability.reason}`)

export default defineSuite({
  name: 'x86',
  samples: 10,
  cases: availability.available ? x86Cases() : [],
})
