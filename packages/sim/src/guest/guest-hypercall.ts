import {
  formatHex,
  decodeHypercallControl,
  encodeHypercallControl,
  hvStatusName,
  hypercallName,
  type GuestVtl,
  type HypercallOutcome,
} from '@vtl/core'
import type { Trace } from '../trace/trace.js'

/** Exception vectors by the names reports use. */
export const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  6: 'UD',
  8: 'DF',
  13: 'GP',
  14: 'PF',
  18: 'MC',
}

/** Where the paravisor's hypercall exit records the guest's call (a host without a trace passes none). */
export interface HypercallTracer {
  trace: Trace
  /** The VP's simulated cycle count when the VMCALL exited. */
  exitCycles: number
  /** The VP's simulated cycle count now (read when the call completes). */
  now: () => number
}

/**
 * Records one guest hypercall as its caller sees it: the HvStatus of a completed call (with its
 * rep count and reps completed for a rep call), `#UD`/`#GP` for one that faulted, `Success` for a
 * VTL call or return that switched. A call that must wait is recorded when it completes.
 */
export function traceGuestHypercall(
  tracer: HypercallTracer,
  vp: number,
  callerVtl: GuestVtl,
  control: bigint,
  outcome: HypercallOutcome
): void {
  if (outcome.kind === 'retry') return
  const { code, repCount } = decodeHypercallControl(control)
  const args: { repCount?: number; repsCompleted?: number } = {}
  let status: string
  switch (outcome.kind) {
    case 'completed':
      status = hvStatusName(outcome.status) ?? formatHex(BigInt(outcome.status))
      if (repCount > 0) {
        args.repCount = repCount
        args.repsCompleted = outcome.repsCompleted
      }
      break
    case 'exception':
      status = `#${EXCEPTION_NAMES[outcome.vector] ?? outcome.vector}`
      break
    case 'vtl-switch':
      status = 'Success'
      break
  }
  tracer.trace.hypercall(vp, callerVtl, tracer.exitCycles, {
    code,
    name: hypercallName(code) ?? formatHex(BigInt(code)),
    status,
    ...args,
    durCycles: tracer.now() - tracer.exitCycles,
  })
}

export function hypercallControl(
  code: number,
  repCount: number,
  repStart = 0,
  varHeaderSize = 0
): bigint {
  return encodeHypercallControl({
    code,
    fast: false,
    variableHeaderSize: varHeaderSize,
    nested: false,
    repCount,
    repStart,
  })
}
