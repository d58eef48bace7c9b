import { putSegmentRegister } from '../hv/segment-register.js'
import { HvStatus } from '../hv/status.js'
import type { VsmEngine } from './engine.js'
import { INTERCEPTION_SINT, postInterceptMessage } from './intercept-post.js'
import type { VsmVp } from './vp.js'

/** `HvMessageType::GpaIntercept`. */
export const HV_MESSAGE_TYPE_GPA_INTERCEPT = 0x8000_0001
/** `HvMessage` size: a 16-byte header and a 240-byte payload. */
export const HV_MESSAGE_SIZE = 256
/** `size_of::<HvX64MemoryInterceptMessage>()`: the intercept header (40) plus 40. */
export const HV_X64_MEMORY_INTERCEPT_MESSAGE_SIZE = 0x50
/** `HvInterceptAccessType`: TDX GPA intercepts use READ and WRITE only (§13.3). */
export const HvInterceptAccessType = { Read: 0, Write: 1 } as const
/** `HvCacheType::HvCacheTypeWriteBack`. */
const CACHE_TYPE_WRITE_BACK = 6

/** A VTL0 access that hit a VTL1 protection, as the host's EPT-violation exit describes it. */
export interface GpaFault {
  gpa: bigint
  /** The guest virtual address when the exit qualification has one. */
  gva?: bigint
  access: 'read' | 'write' | 'execute'
  /** Whether VTL0 may read the page: an execute fault on a readable page is spurious (§13.3). */
  readable: boolean
  instructionLength?: number
  /** Up to 16 instruction bytes, when the host fetched them. */
  instructionBytes?: Uint8Array
}

export interface GpaInterceptOutcome {
  /** Success, InvalidSynicState (SINT0 masked) or ObjectInUse (message slot busy). */
  status: HvStatus
  /** The fault was an instruction fetch from a readable page: nothing to report, resume VTL0. */
  spurious: boolean
  /** The 256-byte message posted to VTL1's SINT0. */
  message?: Uint8Array
}

/**
 * Lay out an `HvMessage` carrying an `HvX64MemoryInterceptMessage` (hvdef): message header (type
 * u32 @0, payload size u8 @4, flags u8 @5, reserved u16 @6, sender u64 @8), then at @16 the
 * intercept header (vp_index u32, instruction_length|cr8<<4 u8, access type u8, execution state
 * u16, CS segment 16 B, RIP u64, RFLAGS u64), cache_type u32 @56, instruction_byte_count u8 @60,
 * memory_access_info u8 @61, tpr_priority u8 @62, reserved u8 @63, GVA u64 @64, GPA u64 @72,
 * instruction_bytes[16] @80.
 */
export function encodeGpaInterceptMessage(
  vp: VsmVp,
  fault: GpaFault,
  accessType: number
): Uint8Array {
  const bytes = new Uint8Array(HV_MESSAGE_SIZE)
  const view = new DataView(bytes.buffer)
  const regs = vp.vtls[0].registers
  view.setUint32(0, HV_MESSAGE_TYPE_GPA_INTERCEPT, true)
  view.setUint8(4, HV_X64_MEMORY_INTERCEPT_MESSAGE_SIZE)
  const p = 16
  view.setUint32(p, vp.index, true)
  const cr8 = Number(regs.cr8 & 0xfn)
  view.setUint8(p + 4, ((fault.instructionLength ?? 0) & 0xf) | (cr8 << 4))
  view.setUint8(p + 5, accessType)
  // HvX64VpExecutionState: cpl 1:0, cr0_pe 2, cr0_am 3, efer_lma 4, ..., vtl 10:7 (0 here).
  const cpl = regs.cs.selector & 3
  const executionState =
    cpl |
    (Number(regs.cr0 & 1n) << 2) |
    (Number((regs.cr0 >> 18n) & 1n) << 3) |
    (Number((regs.efer >> 10n) & 1n) << 4) |
    ((vp.vtls[0].interruptShadow ? 1 : 0) << 12)
  view.setUint16(p + 6, executionState, true)
  putSegmentRegister(view, p + 8, regs.cs)
  view.setBigUint64(p + 24, regs.rip, true)
  view.setBigUint64(p + 32, regs.rflags, true)
  view.setUint32(p + 40, CACHE_TYPE_WRITE_BACK, true)
  const instruction = fault.instructionBytes?.subarray(0, 16) ?? new Uint8Array(0)
  view.setUint8(p + 44, instruction.length)
  // memory_access_info: gva_valid (bit 0).
  view.setUint8(p + 45, fault.gva === undefined ? 0 : 1)
  view.setBigUint64(p + 48, fault.gva ?? 0n, true)
  view.setBigUint64(p + 56, fault.gpa, true)
  bytes.set(instruction, p + 64)
  return bytes
}

/**
 * Deliver a VTL1-protection fault taken in VTL0 to VTL1 as a SynIC message on VTL1's SINT0
 * (§5.6, §7.4, §13.1, §13.3). On success VTL1 has the SINT vector pending and preempts VTL0
 * (entry reason INTERRUPT); VTL0's RIP is not advanced, so the access re-faults if VTL1 lets it
 * run again unchanged. A masked SINT0 gives InvalidSynicState, a busy slot ObjectInUse; then
 * nothing changes and VTL0 re-faults, which retries the delivery.
 */
export function deliverGpaIntercept(
  engine: VsmEngine,
  vpIndex: number,
  fault: GpaFault
): GpaInterceptOutcome {
  const vp = engine.vp(vpIndex)
  // An instruction fetch is probed as a read (§13.3).
  if (fault.access === 'execute' && fault.readable) {
    return { status: HvStatus.Success, spurious: true }
  }
  const accessType =
    fault.access === 'write' ? HvInterceptAccessType.Write : HvInterceptAccessType.Read
  const message = encodeGpaInterceptMessage(vp, fault, accessType)
  const status = postInterceptMessage(engine, vpIndex, message)
  if (status !== HvStatus.Success) return { status, spurious: false }
  return { status, spurious: false, message }
}

/**
 * The guest consumed the message in `sint`'s slot (cleared its type in the SIMP page), as the
 * host observes it. Without SIMP enabled the message sits in a paravisor-private page nobody can
 * clear, so only the first intercept is ever delivered (§13.1).
 */
export function completeSintMessage(
  engine: VsmEngine,
  vpIndex: number,
  sint = INTERCEPTION_SINT
): boolean {
  const synic = engine.vp(vpIndex).vtls[1].synic
  if ((synic.simp & 1n) === 0n) return false
  synic.slotBusy[sint] = false
  synic.message[sint] = undefined
  return true
}
