import {
  VmxExitBasic,
  assertInterrupt,
  classifyGpa,
  endOfInterrupt,
  exitToParavisor,
  hvStatusName,
  prepareEntry,
  tdxStatusCode,
  tdxStatusName,
  type GuestVtl,
  type L2VmIndex,
  type VsmVp,
} from '@vtl/core'
import type { VpEnterExit } from '../tdx-module/types.js'
import type { GuestVpState, SimTd } from '../td/sim-td.js'
import type { GuestAction, StepResult } from '../scenario/types.js'
import { handleMemoryFault } from './memory-fault.js'
import { findAccessFault } from './access.js'
import { guestExit } from './guest-exit.js'
import { performInstruction } from './instruction.js'
import {
  EXCEPTION_NAMES,
  dispatchGuestHypercall,
  hex,
  performHypercall,
  traceGuestHypercall,
  type HypercallTracer,
} from './guest-hypercall.js'

/** `HvVtlEntryReason` names for the trace. */
const ENTRY_REASONS: readonly string[] = ['reserved', 'VTL_CALL', 'INTERRUPT', 'INTERCEPT']

/** What one step did: the VTL the VP acted at and the result in report form. */
export interface StepOutcome {
  vtl: GuestVtl
  result: StepResult
}

/**
 * The paravisor's side of a lower-VTL entry (§6.4): handle the VP's wakes and interrupts, pick
 * the VTL, count a VTL switch when it changed, and publish the active VTL.
 */
export function enterGuest(td: SimTd, vp: number): GuestVtl {
  const state = td.engine.vp(vp)
  let vtl: GuestVtl
  if (quiet(td, state)) {
    // Nothing pending: prepareEntry would only publish the active VTL.
    vtl = state.exitVtl
    td.engine.shared.setActiveVtl(vp, vtl)
  } else {
    vtl = prepareEntry(td.engine, vp).vtl
  }
  const before = td.enteredVtl[vp] as GuestVtl
  if (vtl !== before) {
    td.enteredVtl[vp] = vtl
    td.vtlSwitch(vp, before, vtl, ENTRY_REASONS[state.vtls[1].control.entryReason] ?? '')
  }
  return vtl
}

/**
 * No wake word, no requested interrupt or NMI in either VTL's APIC and no VTL1 pending event:
 * `prepareEntry` would change nothing but `active_vtl` (its every branch needs one of these).
 */
function quiet(td: SimTd, state: VsmVp): boolean {
  const { shared } = td.engine
  if (shared.wakeReasons(state.index, 0) !== 0 || shared.wakeReasons(state.index, 1) !== 0) {
    return false
  }
  const vtl0 = state.vtls[0]
  const vtl1 = state.vtls[1]
  if (vtl0.apic.nmiPending || vtl1.apic.nmiPending) return false
  if (vtl0.apic.highestRequested() >= 0 || vtl1.apic.highestRequested() >= 0) return false
  return state.vtl1?.vtl0ExitPendingEvent === undefined
}

/** Whether the VP's active VTL can run: `undefined` if it can, else the report's error. */
export function runnable(td: SimTd, vp: number): 'VpNotRunning' | 'VpBlocked' | undefined {
  const state = td.engine.vp(vp)
  if (td.guestVp(vp).blocked !== undefined) return 'VpBlocked'
  const activity = state.vtls[state.exitVtl].apic.activity
  if (activity === 'wait-for-sipi') return 'VpNotRunning'
  if (activity === 'halted') return 'VpBlocked'
  return undefined
}

/** Binds the guest model to the TD's TDG.VP.ENTER: the runner plays the VP's pending action. */
export function bindGuest(td: SimTd): void {
  td.runner ??= (vp: number, vmIndex: L2VmIndex): VpEnterExit => {
    const guest = td.guestVp(vp)
    return guestExit(td, (vmIndex - 1) as GuestVtl, guest.action, guest)
  }
}

/**
 * One guest step on `vp`: the VP first handles its pending wakes (as a VP does before it
 * re-enters its guest), retries a blocked hypercall, then enters its active VTL, where the guest
 * performs `action` and exits; the paravisor handles the exit, and the result carries
 * `activeVtl` after the re-entry that follows.
 */
export function performStep(td: SimTd, vp: number, action: GuestAction): StepOutcome {
  bindGuest(td)
  td.currentVp = vp
  if (td.traceEvents) {
    td.trace.record({
      kind: 'step',
      vp,
      vtl: td.engine.vp(vp).exitVtl,
      simCycles: td.clock.now(vp),
      name: action.kind,
      args: {},
    })
  }
  if (action.kind === 'fault') {
    td.faults.arm({ at: action.at, status: action.status, after: action.after })
    return { vtl: td.engine.vp(vp).exitVtl, result: { activeVtl: td.engine.vp(vp).exitVtl } }
  }
  // The previous step's re-entry already handled this VP's wakes; only another VP's step or a
  // wake since then can have left it something new.
  let vtl = td.settled(vp) ? td.engine.vp(vp).exitVtl : enterGuest(td, vp)
  const guest = td.guestVp(vp)
  let resumed: string | undefined
  if (guest.blocked !== undefined) {
    const { control, input, fast } = guest.blocked
    const callerVtl = td.engine.vp(vp).exitVtl
    const tracer = hypercallTracer(td, vp, td.clock.now(vp))
    const outcome = dispatchGuestHypercall(td.engine, vp, control, input, fast)
    if (tracer !== undefined) traceGuestHypercall(tracer, vp, callerVtl, control, outcome)
    if (outcome.kind === 'retry') {
      guest.blocked.control = outcome.control
    } else {
      guest.blocked = undefined
      resumed =
        outcome.kind === 'completed'
          ? (hvStatusName(outcome.status) ?? `${outcome.status}`)
          : outcome.kind
      vtl = enterGuest(td, vp)
    }
  }
  const error = runnable(td, vp)
  if (error !== undefined) return { vtl, result: { error, activeVtl: vtl } }
  guest.exception = undefined
  guest.action = action
  guest.readValue = undefined
  const exit = td.vpEnter(vp, vtl)
  guest.action = undefined
  let result: StepResult
  const rax = exit.rax
  // RAX[63:32] (the status) is non-zero exactly when RAX is outside 32 bits.
  if (rax < 0n || rax > 0xffff_ffffn) {
    const enterStatus = tdxStatusCode(rax)
    // TDG.VP.ENTER itself failed (an injected fault): the L2 never ran.
    result = { enterStatus: tdxStatusName(enterStatus) ?? hex(BigInt(enterStatus)) }
  } else {
    const exitAt = td.tick(vp, td.cost.l2Exit)
    result = handleExit(td, vp, vtl, action, Number(rax) & 0xffff, exit.r8, guest, exitAt)
  }
  if (resumed !== undefined) result.resumed = resumed
  exitToParavisor(td.engine, vp)
  const after = enterGuest(td, vp)
  const injected = takeException(guest)
  if (injected !== undefined && result.exception === undefined) {
    result.exception = EXCEPTION_NAMES[injected] ?? injected
  }
  result.activeVtl = after
  td.settle(vp)
  td.flushClock()
  return { vtl, result }
}

/** Records guest hypercalls from `exitCycles` on, when the TD keeps trace events. */
function hypercallTracer(td: SimTd, vp: number, exitCycles: number): HypercallTracer | undefined {
  if (!td.traceEvents) return undefined
  return { trace: td.trace, exitCycles, now: () => td.clock.now(vp) }
}

/** The exception the paravisor injected during the step (the VpPort records it), cleared. */
function takeException(guest: GuestVpState): number | undefined {
  const vector = guest.exception
  guest.exception = undefined
  return vector
}

/** The paravisor handles the L2 exit of one step (taken at `exitAt` simulated cycles). */
function handleExit(
  td: SimTd,
  vp: number,
  vtl: GuestVtl,
  action: GuestAction,
  exitReason: number,
  exitGpa: bigint,
  guest: GuestVpState,
  exitAt: number
): StepResult {
  const { engine } = td
  switch (action.kind) {
    case 'hypercall':
    case 'vtlCall':
    case 'vtlReturn':
    case 'setRegister':
    case 'getRegister':
      td.tick(vp, td.cost.hypercallHandler)
      return performHypercall(td.engine, vp, action, {
        waiting: guest,
        tracer: hypercallTracer(td, vp, exitAt),
      })
    case 'read':
    case 'write':
    case 'execute':
      if (exitReason !== VmxExitBasic.EPT_VIOLATION) {
        return action.kind === 'read'
          ? { ok: true, value: hex(guest.readValue ?? 0n) }
          : { ok: true }
      }
      return memoryFault(td, vp, vtl, action, exitGpa)
    case 'interrupt':
      assertInterrupt(engine, vp, action.vtl, action.vector)
      td.tick(vp, td.cost.interrupt)
      return {}
    case 'eoi':
      endOfInterrupt(engine, vp, vtl)
      return {}
    case 'io':
    case 'writeCr':
    case 'msr':
      return performInstruction(td, vp, action)
    case 'run':
    case 'fault':
      return {}
  }
}

/** The paravisor's fault handling, plus the intercept's cost and trace on the simulated TD. */
function memoryFault(
  td: SimTd,
  vp: number,
  vtl: GuestVtl,
  action: Extract<GuestAction, { kind: 'read' | 'write' | 'execute' }>,
  exitGpa: bigint
): StepResult {
  const verdict = findAccessFault(td, vtl, action)?.verdict
  const result = handleMemoryFault(td.engine, vp, vtl, action.kind, verdict, exitGpa, td.gpaWidth)
  if (result.intercept !== undefined) {
    const at = td.tick(vp, td.cost.interrupt)
    if (td.traceEvents) {
      td.trace.record({
        kind: 'intercept',
        vp,
        vtl: 1,
        simCycles: at,
        name: `GPA ${action.kind === 'write' ? 'write' : 'read'}`,
        args: { gpa: hex(classifyGpa(exitGpa, td.gpaWidth).canonical) },
      })
    }
  }
  return result
}
