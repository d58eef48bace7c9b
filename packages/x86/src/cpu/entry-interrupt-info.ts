import type { X86Event } from './x86-exit.js'

const VALID = 1 << 31
const DELIVER_ERROR_CODE = 1 << 11
/** Interruption types that are software events (INT n, INT1, INT3/INTO). */
const SOFTWARE_TYPES = new Set([4, 5, 6])

/**
 * The event a VM entry injects, from the VMCS VM-entry interruption-information field (vector
 * 7:0, type 10:8, deliver error code 11, valid 31; SDM Vol. 3C §24.8.3) and the VM-entry
 * exception error code. Undefined when the valid bit is clear.
 */
export function eventFromEntryInterruptInfo(info: number, errorCode = 0): X86Event | undefined {
  if ((info & VALID) === 0) return undefined
  const event: X86Event = { vector: info & 0xff }
  if ((info & DELIVER_ERROR_CODE) !== 0) event.errorCode = errorCode >>> 0
  if (SOFTWARE_TYPES.has((info >> 8) & 7)) event.software = true
  return event
}
