import {
  formatHex,
  decodeHypercallResult,
  hvStatusName,
  tdxStatusName,
  type ExitOutcome,
  type HypercallOutcome,
  type MemFaultOutcome,
} from '@vtl/core'
import { bytesToHex } from '../hypervisor/untrusted-hypervisor.js'
import type { GuestAction, StepResult } from '../scenario/types.js'
import type { GuestGprs, IssuedCall, ScriptedGuestVp } from './guest-exit.js'
import { EXCEPTION_NAMES } from './guest-hypercall.js'
import { instructionResult, isInstructionAction } from './instruction.js'
import type { MemoryContents } from './memory-contents.js'

/** Where a report reads what the guest saw: its registers and its RAM. */
export interface GuestView {
  guest: ScriptedGuestVp
  regs: GuestGprs
  contents: MemoryContents
}

function exceptionName(vector: number): string | number {
  return EXCEPTION_NAMES[vector] ?? vector
}

/** `check_mem_fault`'s outcome in report form (scenario-format.md, read/write/execute). */
export function memFaultResult(outcome: MemFaultOutcome): StepResult {
  switch (outcome.kind) {
    case 'spurious':
      return { ok: false, spurious: true }
    case 'machine-check':
      return { ok: false, exception: 'MC' }
    case 'intercept-failed':
      return { ok: false, interceptStatus: hvStatusName(outcome.status) ?? outcome.status }
    case 'intercept':
      return {
        ok: false,
        intercept: { toVtl: 1, accessType: outcome.accessType, gpa: formatHex(outcome.gpa) },
      }
  }
}

/**
 * A hypercall's result as the guest sees it: status and reps completed from RAX, output bytes
 * from its output page (`outputGpa`), `blocked` when it must reissue the call.
 */
function hypercallResult(
  action: GuestAction,
  outcome: HypercallOutcome,
  outputGpa: bigint,
  view: GuestView,
  issued: IssuedCall | undefined
): StepResult {
  switch (outcome.kind) {
    case 'exception':
      return { exception: exceptionName(outcome.vector) }
    case 'vtl-switch':
      return {}
    case 'retry':
      if (issued !== undefined) view.guest.blocked = { ...issued, control: outcome.control }
      return { blocked: true }
    case 'completed':
      // Kept apart: the cases above (a VTL switch on every round trip) stay small enough to inline.
      return completedResult(action, outcome, outputGpa, view)
  }
}

/** A completed call's result: status, reps, output. */
function completedResult(
  action: GuestAction,
  outcome: Extract<HypercallOutcome, { kind: 'completed' }>,
  outputGpa: bigint,
  view: GuestView
): StepResult {
  if (action.kind === 'vtlCall' || action.kind === 'vtlReturn') return {}
  const { status, repsCompleted } = decodeHypercallResult(view.regs.rax)
  const result: StepResult = {
    status: hvStatusName(status) ?? formatHex(BigInt(status)),
    code: status,
  }
  const output =
    outcome.output === undefined
      ? undefined
      : view.contents.readBytes(outputGpa + BigInt(outcome.outputOffset), outcome.output.length)
  if (action.kind === 'hypercall') {
    const call = action.call
    if (call.kind === 'typed' ? call.rep : call.repCount > 0) result.repsCompleted = repsCompleted
    if ((call.kind === 'raw' || call.hasOutput) && output !== undefined) {
      result.output = bytesToHex(output)
    }
  } else if (action.kind === 'getRegister' && repsCompleted === 1 && output !== undefined) {
    const bytes = output.subarray(0, 8)
    result.value = formatHex(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true))
  }
  return result
}

/** One loop pass's exit in report form, for the action the guest performed. */
export function exitResult(
  action: GuestAction,
  exit: ExitOutcome,
  view: GuestView,
  issued: IssuedCall | undefined
): StepResult {
  // A VMCALL first (every step of a round trip), the rest apart: this stays small enough to inline.
  if (exit.kind === 'vmcall') {
    return hypercallResult(action, exit.outcome, exit.outputGpa, view, issued)
  }
  return otherExitResult(action, exit, view)
}

/** `exitResult` of an exit other than a VMCALL. */
function otherExitResult(
  action: GuestAction,
  exit: Exclude<ExitOutcome, { kind: 'vmcall' }>,
  view: GuestView
): StepResult {
  switch (exit.kind) {
    case 'ept-violation':
      return memFaultResult(exit.outcome)
    case 'instruction':
      return isInstructionAction(action)
        ? instructionResult(action, exit.outcome)
        : { unexpectedExit: exit.instruction }
    case 'not-run':
      return { enterStatus: tdxStatusName(exit.tdxStatus) ?? formatHex(BigInt(exit.tdxStatus)) }
    case 'unhandled':
      return { unexpectedExit: exit.reason }
    case 'hlt':
    case 'preempted':
      if (action.kind === 'read') return { ok: true, value: formatHex(view.guest.readValue ?? 0n) }
      return action.kind === 'write' || action.kind === 'execute' ? { ok: true } : {}
  }
}
