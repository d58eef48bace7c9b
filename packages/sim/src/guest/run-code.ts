import {
  VmxExitBasic,
  VtlError,
  assertInterrupt,
  formatHex,
  runVp,
  type ExitOutcome,
  type GuestVtl,
  type VpRun,
} from '@vtl/core'
import { DEFAULT_MAX_INSTRUCTIONS, type GuestAction, type StepResult } from '../scenario/types.js'
import type { SimTd } from '../td/sim-td.js'
import { afterExit, answer, type StepAnswer } from './perform.js'

/** Why a `run` step ended before an exit code, a HLT or the budget. */
type RunError = 'TripleFault' | 'InstructionLimit' | 'UnhandledExit' | 'VpNotRunning' | 'VpBlocked'

/**
 * A step when the L2s run real code (`partition.cpu: x86`): `run` executes the VP's guest code
 * through core's VP loop, pass after pass (VTL switches, hypercalls, intercepts included), until
 * the guest writes an exit code, halts, spends `maxInstructions`, triple-faults or takes an exit
 * the paravisor leaves unhandled. The result carries the console text and the instructions of
 * this step (scenario-format.md, "Guest code"). `interrupt` asserts the vector in the VTL's APIC
 * without running the guest.
 */
export function codeStep(
  td: SimTd,
  vp: number,
  action: GuestAction,
  prepared: boolean
): StepAnswer {
  const cpu = td.l2Cpu
  if (action.kind === 'interrupt') {
    // A device asserts it; the guest takes it through its IDT when the VTL next runs with IF set.
    assertInterrupt(td.engine, vp, action.vtl, action.vector)
    td.runOn(vp) // the VP's next entry prepares again (it may now wake or switch VTL)
    const vtl = td.engine.vp(vp).exitVtl
    return answer(vtl, { activeVtl: vtl }, false)
  }
  if (cpu === undefined || action.kind !== 'run') {
    throw new VtlError('E_UNSUPPORTED', `a ${action.kind} step has no meaning for guest code`, {
      field: 'action',
    })
  }
  const start = cpu.progress(vp)
  cpu.startRun(vp, action.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS)
  const hook = afterExit(td, vp, undefined)
  const options = hook === undefined ? { prepared } : { prepared, afterExit: hook }
  let first: VpRun | undefined
  let pass: VpRun
  let halted = false
  let error: RunError | undefined
  for (;;) {
    pass = runVp(td.engine, td.backing, vp, options)
    first ??= pass
    options.prepared = true
    const exit = pass.exit
    if (exit !== undefined && td.traceEvents) traceExit(td, vp, pass.vtl, exit)
    if (pass.blocked !== undefined || exit === undefined) {
      error = pass.blocked ?? 'VpBlocked'
      break
    }
    if (exit.kind === 'hlt') {
      halted = true
      break
    }
    if (exit.kind === 'unhandled') {
      error = exit.reason === VmxExitBasic.TRIPLE_FAULT ? 'TripleFault' : 'UnhandledExit'
      break
    }
    const now = cpu.progress(vp)
    if (now.exitCode !== undefined) break
    if (now.budgetSpent) {
      error = 'InstructionLimit'
      break
    }
  }
  const end = cpu.progress(vp)
  const result: StepResult = {
    activeVtl: pass.activeVtl,
    console: end.console.slice(start.console.length),
    halted,
    instructions: end.instructions - start.instructions,
  }
  if (end.exitCode !== undefined) result.exitCode = end.exitCode
  if (error !== undefined) result.error = error
  td.flushClock()
  const vtl: GuestVtl = first.vtl
  // Each pass that ran ended with the loop's post-exit entry preparation.
  return answer(vtl, result, pass.exit !== undefined)
}

/**
 * The guest's exit as the paravisor saw it (a trace event of kind `exit`, at the exit's cycle):
 * what trapped — VMCALL, an EPT violation, HLT, an instruction (I/O, MSR, CR), a preemption —
 * and what became of it.
 */
function traceExit(td: SimTd, vp: number, vtl: GuestVtl, exit: ExitOutcome): void {
  const args: Record<string, string | number> = {}
  let name: string = exit.kind
  if (exit.kind === 'instruction') {
    name = exit.instruction
    args.outcome = exit.outcome.kind
  } else if (exit.kind === 'ept-violation') {
    args.gpa = formatHex(exit.fault.gpa)
    args.access = exit.fault.access
    args.outcome = exit.outcome.kind
  } else if (exit.kind === 'unhandled') {
    args.reason = exit.reason
  }
  td.trace.record({ kind: 'exit', vp, vtl, simCycles: td.backing.exitAt, name, args })
}
