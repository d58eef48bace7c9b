import {
  formatHex,
  assertInterrupt,
  endOfInterrupt,
  runVp,
  vpBlocked,
  type ExitOutcome,
  type GuestVtl,
  type VpRun,
  type VpRunOptions,
} from '@vtl/core'
import type { GuestVpState, SimTd } from '../td/sim-td.js'
import type { GuestAction, StepResult } from '../scenario/types.js'
import { EXCEPTION_NAMES, traceGuestHypercall } from './guest-hypercall.js'
import { interceptFields, interceptName, isInstructionAction } from './instruction.js'
import type { IssuedCall } from './guest-exit.js'
import { afterReissue } from './reissue.js'
import { codeStep } from './run-code.js'
import { exitResult, type GuestView } from './step-report.js'

/** What one step did: the VTL the VP acted at and the result in report form. */
export interface StepOutcome {
  vtl: GuestVtl
  result: StepResult
}

/** What `guestStep` answers `SimTd.step`: the outcome, and whether the VP's preparation is current. */
export interface StepAnswer {
  outcome: StepOutcome
  settled: boolean
}

/**
 * The step's answer, a fresh object: a caller may keep it (`codeStep` is public), and nothing
 * module-wide holds on to a TD's step once it returns.
 */
export function answer(vtl: GuestVtl, result: StepResult, settled: boolean): StepAnswer {
  return { outcome: { vtl, result }, settled }
}

/** Whether the VP's active VTL can run: `undefined` if it can, else the report's error. */
export function runnable(td: SimTd, vp: number): 'VpNotRunning' | 'VpBlocked' | undefined {
  if (td.guestVp(vp).blocked !== undefined) return 'VpBlocked'
  return vpBlocked(td.engine, vp)
}

/**
 * What the paravisor does on the simulated TD right after the exit switch: the guest-hypercall
 * trace, an intercept's cost, and the `interrupt`/`eoi` actions (a device or the guest's APIC
 * write, observed at the exit). Undefined when there is nothing to do (the hot path).
 */
export function afterExit(
  td: SimTd,
  vp: number,
  action: GuestAction | undefined
): ((exit: ExitOutcome, vtl: GuestVtl) => void) | undefined {
  if (td.traceEvents || isInstructionAction(action)) return exitHook(td, vp, action)
  switch (action?.kind) {
    case 'read':
    case 'write':
    case 'execute':
    case 'interrupt':
    case 'eoi':
      return exitHook(td, vp, action)
    default:
      return undefined
  }
}

/** `afterExit`'s hook (kept apart: the check above runs on every step, the closure seldom). */
function exitHook(
  td: SimTd,
  vp: number,
  action: GuestAction | undefined
): (exit: ExitOutcome, vtl: GuestVtl) => void {
  return (exit, vtl) => {
    if (exit.kind === 'vmcall' && td.traceEvents) {
      const tracer = { trace: td.trace, exitCycles: td.backing.exitAt, now: () => td.clock.now(vp) }
      traceGuestHypercall(tracer, vp, vtl, exit.control, exit.outcome)
    } else if (exit.kind === 'ept-violation' && exit.outcome.kind === 'intercept') {
      const at = td.tick(vp, td.cost.interrupt)
      if (td.traceEvents) {
        td.trace.record({
          kind: 'intercept',
          vp,
          vtl: 1,
          simCycles: at,
          name: `GPA ${exit.outcome.accessType}`,
          args: { gpa: formatHex(exit.outcome.gpa) },
        })
      }
    } else if (
      exit.kind === 'instruction' &&
      exit.outcome.kind === 'intercepted' &&
      exit.outcome.status === 0 &&
      isInstructionAction(action)
    ) {
      const at = td.tick(vp, td.cost.interrupt)
      if (td.traceEvents) {
        td.trace.record({
          kind: 'intercept',
          vp,
          vtl: 1,
          simCycles: at,
          name: interceptName(action),
          args: interceptFields(action),
        })
      }
    } else if (action?.kind === 'interrupt') {
      assertInterrupt(td.engine, vp, action.vtl, action.vector)
      td.tick(vp, td.cost.interrupt)
    } else if (action?.kind === 'eoi') {
      endOfInterrupt(td.engine, vp, vtl)
    }
  }
}

// Bound once: under a CommonJS transform (tsx: the benchmarks) each use of a barrel import is a
// chain of getters, and the loop runs on every step.
const loop = runVp

/**
 * A TD's reused step objects: the loop's result, its options without a hook and the report's view
 * of the guest, each refilled per step (one set per TD, so nothing module-wide keeps a deleted
 * TD's RAM or registers alive).
 */
export class StepScratch {
  readonly run: VpRun = { vtl: 0, blocked: undefined, exit: undefined, activeVtl: 0 }
  readonly prepared: VpRunOptions = { prepared: true, into: this.run }
  readonly unprepared: VpRunOptions = { prepared: false, into: this.run }
  view: GuestView | undefined
}

/**
 * The key of a TD's `StepScratch`: a symbol the package does not export, so the last step's state
 * is no public member of `SimTd`.
 */
export const STEP_SCRATCH: unique symbol = Symbol('stepScratch')

/** Where the step's report reads the guest's registers and RAM (the scratch view, refilled). */
function guestView(td: SimTd, guest: GuestVpState, vp: number): GuestView {
  const regs = td.engine.vp(vp).shared
  const scratch = td[STEP_SCRATCH]
  const view = scratch.view
  if (view === undefined) return (scratch.view = { guest, regs, contents: td.contents })
  view.guest = guest
  view.regs = regs
  view.contents = td.contents
  return view
}

/** The exception the paravisor injected during the step (the VpPort records it), cleared. */
function takeException(guest: GuestVpState): number | undefined {
  const vector = guest.exception
  guest.exception = undefined
  return vector
}

/** Loop options with an exit hook (built per step: the hook is a closure over the step). */
function hookOptions(
  scratch: StepScratch,
  prepared: boolean,
  hook: (exit: ExitOutcome, vtl: GuestVtl) => void
): VpRunOptions {
  return { prepared, afterExit: hook, into: scratch.run }
}

/** Runs core's loop once on `vp` with the guest playing `action`. */
function run(
  td: SimTd,
  guest: GuestVpState,
  vp: number,
  action: GuestAction | undefined,
  prepared: boolean
): VpRun {
  guest.action = action
  guest.readValue = undefined
  const hook = afterExit(td, vp, action)
  const scratch = td[STEP_SCRATCH]
  const options =
    hook !== undefined
      ? hookOptions(scratch, prepared, hook)
      : prepared
        ? scratch.prepared
        : scratch.unprepared
  const result = loop(td.engine, td.backing, vp, options)
  guest.action = undefined
  return result
}

/**
 * One guest step on `vp` through core's VP loop (`td.step`): the VP handles its pending wakes,
 * reissues a hypercall it was told to retry, then enters its active VTL, where the guest performs
 * `action` at the register level and exits; the paravisor handles the exit, and the result
 * carries `activeVtl` after the re-entry preparation that follows.
 */
export function performStep(td: SimTd, vp: number, action: GuestAction): StepOutcome {
  return td.step(vp, action)
}

/**
 * The step itself, for `SimTd.step`: `prepared` says the VP's last post-exit preparation is still
 * current; `settled` in the answer says this step's is.
 */
export function guestStep(
  td: SimTd,
  vp: number,
  action: GuestAction,
  prepared: boolean
): StepAnswer {
  // The rare paths live in their own functions: this one stays small enough for the compiler to
  // inline the loop into it.
  if (td.traceEvents) traceStep(td, vp, action)
  if (action.kind === 'fault') return armFault(td, vp, action)
  if (td.l2Cpu !== undefined) return codeStep(td, vp, action, prepared)
  const guest = td.guestVp(vp)
  let resumed: string | undefined
  if (guest.blocked !== undefined) {
    const reissued = reissue(td, guest, vp, prepared)
    if (typeof reissued === 'object') return reissued
    resumed = reissued
    prepared = true
  }
  guest.exception = undefined
  const step = run(td, guest, vp, action, prepared)
  if (step.blocked !== undefined || step.exit === undefined) return notRun(step)
  const result = exitResult(action, step.exit, guestView(td, guest, vp), guest.issued)
  if (resumed !== undefined) result.resumed = resumed
  const injected = takeException(guest)
  if (injected !== undefined) addException(result, injected)
  result.activeVtl = step.activeVtl
  td.flushClock()
  return answer(step.vtl, result, true)
}

/** The step's trace event (trace events on). */
function traceStep(td: SimTd, vp: number, action: GuestAction): void {
  td.trace.record({
    kind: 'step',
    vp,
    vtl: td.engine.vp(vp).exitVtl,
    simCycles: td.clock.now(vp),
    name: action.kind,
    args: {},
  })
}

/** A `fault` step arms the injector; the VP does not run. */
function armFault(td: SimTd, vp: number, action: Extract<GuestAction, { kind: 'fault' }>) {
  td.faults.arm({ at: action.at, status: action.status, after: action.after })
  const vtl = td.engine.vp(vp).exitVtl
  return answer(vtl, { activeVtl: vtl }, false)
}

/**
 * RIP is still on the VMCALL the paravisor asked the guest to reissue: the guest executes it
 * again. The step's answer while it stays blocked, else what the reissued call became.
 */
function reissue(
  td: SimTd,
  guest: GuestVpState,
  vp: number,
  prepared: boolean
): StepAnswer | string | undefined {
  const blocked = guest.blocked as IssuedCall
  const retry = run(td, guest, vp, undefined, prepared)
  const next = afterReissue(blocked, retry.exit)
  guest.blocked = next.blocked
  if (guest.blocked !== undefined) {
    return answer(retry.vtl, { error: 'VpBlocked', activeVtl: retry.activeVtl }, false)
  }
  return next.resumed
}

/** The VP could not run (or its run was cancelled). */
function notRun(step: VpRun): StepAnswer {
  return answer(step.vtl, { error: step.blocked ?? 'VpBlocked', activeVtl: step.vtl }, false)
}

/** The exception the paravisor injected during the step, unless the report names one already. */
function addException(result: StepResult, injected: number): void {
  if (result.exception === undefined) result.exception = EXCEPTION_NAMES[injected] ?? injected
}
