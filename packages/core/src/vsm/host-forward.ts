import { decodeHypercallResult, encodeHypercallControl } from '../hv/control.js'
import type { HvStatus } from '../hv/status.js'
import type { HypervisorPort } from './ports.js'

/** The status and reps completed the hypervisor answered. */
export interface ForwardResult {
  status: HvStatus
  repsCompleted: number
}

/**
 * Issue a hypercall to the untrusted hypervisor as VTL2 does through `/dev/mshv_hvcall`: memory
 * input, no variable header; `repCount` 0 for a simple call.
 */
export function forwardHypercall(
  hypervisor: HypervisorPort,
  code: number,
  input: Uint8Array,
  repCount = 0
): ForwardResult {
  const control = encodeHypercallControl({
    code,
    fast: false,
    variableHeaderSize: 0,
    nested: false,
    repCount,
    repStart: 0,
  })
  const { result } = hypervisor.hypercall(control, input)
  const decoded = decodeHypercallResult(result)
  return { status: decoded.status as HvStatus, repsCompleted: decoded.repsCompleted }
}
