import { HvStatus } from '../../hv/status.js'
import type { GuestVtl } from '../../hv/vtl.js'
import type { VsmEngine } from '../engine.js'
import { deliverGpaIntercept } from '../gpa-intercept.js'
import type { AccessKind, AccessVerdict } from './mem-access.js'

const MACHINE_CHECK = 18

/** What the paravisor made of an EPT violation (`check_mem_fault`, §5.6). */
export type MemFaultOutcome =
  /** The access is allowed now, or a fetch from a readable page (§13.3): VTL resumes as is. */
  | { kind: 'spurious' }
  /** #MC injected into the faulting VTL. */
  | { kind: 'machine-check'; reason: string }
  /** A GPA intercept posted to VTL1's SINT0 (READ or WRITE only, §13.3). */
  | { kind: 'intercept'; gpa: bigint; accessType: 'read' | 'write'; message: Uint8Array }
  /** The intercept could not be posted (InvalidSynicState, ObjectInUse): VTL0 re-faults. */
  | { kind: 'intercept-failed'; status: HvStatus }

/** One EPT violation, as the paravisor sees it. */
export interface MemFault {
  /** The canonical GPA (shared bit removed). */
  gpa: bigint
  access: AccessKind
  instructionLength: number
}

const SPURIOUS: MemFaultOutcome = { kind: 'spurious' }

/**
 * `check_mem_fault` (§5.6): the page's verdict now (an access allowed by the time the paravisor
 * looks is spurious); a VTL0 access that VTL1's protections refuse becomes a GPA intercept on
 * VTL1's SINT0 (a fetch is probed as a read, §13.3); anything else injects #MC into the VTL. RIP
 * is never advanced: the access re-faults or completes when the VTL runs again.
 */
export function checkMemFault(
  engine: VsmEngine,
  vp: number,
  vtl: GuestVtl,
  fault: MemFault,
  verdict: AccessVerdict
): MemFaultOutcome {
  if (verdict.kind === 'ok') return SPURIOUS
  if (verdict.kind === 'machine-check') {
    engine.ports.vp.injectException(vp, vtl, { vector: MACHINE_CHECK })
    return { kind: 'machine-check', reason: verdict.reason }
  }
  const outcome = deliverGpaIntercept(engine, vp, {
    gpa: fault.gpa,
    access: fault.access,
    readable: verdict.readable,
    instructionLength: fault.instructionLength,
  })
  if (outcome.spurious) return SPURIOUS
  if (outcome.status !== HvStatus.Success || outcome.message === undefined) {
    return { kind: 'intercept-failed', status: outcome.status }
  }
  return {
    kind: 'intercept',
    gpa: fault.gpa,
    accessType: fault.access === 'write' ? 'write' : 'read',
    message: outcome.message,
  }
}
