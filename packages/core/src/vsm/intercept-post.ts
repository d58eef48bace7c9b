import { HvStatus } from '../hv/status.js'
import type { VsmEngine } from './engine.js'
import { handleCrossVtlInterrupts } from './interrupts.js'
import { postMessage } from './overlay-pages.js'
import { SINT_MASKED } from './vp.js'

/** `HV_SYNIC_INTERCEPTION_SINT_INDEX`. */
export const INTERCEPTION_SINT = 0

/**
 * `send_intercept_message` to VTL1 (§13.1): post a 256-byte message to VTL1's SINT0 on `vpIndex`.
 * A masked SINT0 gives InvalidSynicState, a busy slot ObjectInUse (with `message_pending` set in
 * the slot of a SIMP in guest RAM); then the access is not completed (a real guest re-faults). On success VTL1 has the SINT vector pending and
 * preempts VTL0 (entry reason INTERRUPT). GPA and instruction intercepts share this path.
 */
export function postInterceptMessage(
  engine: VsmEngine,
  vpIndex: number,
  message: Uint8Array
): HvStatus {
  const vp = engine.vp(vpIndex)
  const synic = vp.vtls[1].synic
  const sint = synic.sint[INTERCEPTION_SINT] ?? SINT_MASKED
  if ((sint & SINT_MASKED) !== 0n) return HvStatus.InvalidSynicState
  if (!postMessage(engine, vp, 1, INTERCEPTION_SINT, message)) return HvStatus.ObjectInUse
  vp.vtls[1].apic.request(Number(sint & 0xffn))
  handleCrossVtlInterrupts(engine, vpIndex)
  return HvStatus.Success
}
