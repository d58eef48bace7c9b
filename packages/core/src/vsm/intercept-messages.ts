import { putSegmentRegister, type SegmentRegister } from '../hv/segment-register.js'
import { HV_MESSAGE_SIZE } from './gpa-intercept.js'

/** `HvMessageType` values of the instruction intercepts (§13.16). */
export const HvInstructionInterceptMessageType = {
  X64IoPortIntercept: 0x8001_0000,
  MsrIntercept: 0x8001_0001,
  RegisterIntercept: 0x8001_0006,
} as const

/** Payload sizes (`HvMessageHeader.len`): `size_of` each message struct. */
export const HV_X64_REGISTER_INTERCEPT_MESSAGE_SIZE = 64
export const HV_X64_MSR_INTERCEPT_MESSAGE_SIZE = 64
export const HV_X64_IO_PORT_INTERCEPT_MESSAGE_SIZE = 128

/**
 * What OpenHCL's TDX `intercept_message_state` puts in an `HvX64InterceptMessageHeader`: the
 * instruction length alone (no CR8 nibble on this path), the access type (0 READ, 1 WRITE), an
 * execution state with only CPL, EFER.LMA and the VTL, CS, RIP and RFLAGS.
 */
export interface InterceptHeaderFields {
  vpIndex: number
  instructionLength: number
  accessType: 0 | 1
  cpl: number
  vtl: number
  eferLma: boolean
  cs: SegmentRegister
  rip: bigint
  rflags: bigint
}

/** `HvX64IoPortInterceptMessage` after the header. */
export interface IoPortInterceptFields {
  port: number
  /** 1, 2 or 4 (`HvX64IoPortAccessInfo` bits 2:0). */
  accessSize: number
  stringOp: boolean
  repPrefix: boolean
  rax: bigint
  ds: SegmentRegister
  es: SegmentRegister
  rcx: bigint
  rsi: bigint
  rdi: bigint
}

/** A 256-byte `HvMessage`: header (type u32, len u8, flags u8, rsvd u16, id u64 = 0), payload. */
function message(type: number, length: number, header: InterceptHeaderFields): DataView {
  const view = new DataView(new ArrayBuffer(HV_MESSAGE_SIZE))
  view.setUint32(0, type, true)
  view.setUint8(4, length)
  const p = 16
  view.setUint32(p, header.vpIndex, true)
  view.setUint8(p + 4, header.instructionLength & 0xf)
  view.setUint8(p + 5, header.accessType)
  // HvX64VpExecutionState: cpl 1:0, efer_lma 4, vtl 10:7.
  const state = (header.cpl & 3) | ((header.eferLma ? 1 : 0) << 4) | ((header.vtl & 0xf) << 7)
  view.setUint16(p + 6, state, true)
  putSegmentRegister(view, p + 8, header.cs)
  view.setBigUint64(p + 24, header.rip, true)
  view.setBigUint64(p + 32, header.rflags, true)
  return view
}

const bytesOf = (view: DataView): Uint8Array => new Uint8Array(view.buffer)

/**
 * `HvX64RegisterInterceptMessage` (0x80010006): header, flags u8 @40 (0: not a memory op), rsvd
 * u8, rsvd u16, register_name u32 @44, access_info u128 @48 (the value written). Offsets are
 * within the payload, which starts at byte 16 of the message.
 */
export function encodeRegisterInterceptMessage(
  header: InterceptHeaderFields,
  register: number,
  value: bigint
): Uint8Array {
  const view = message(
    HvInstructionInterceptMessageType.RegisterIntercept,
    HV_X64_REGISTER_INTERCEPT_MESSAGE_SIZE,
    header
  )
  view.setUint32(16 + 44, register, true)
  view.setBigUint64(16 + 48, value, true)
  return bytesOf(view)
}

/**
 * `HvX64MsrInterceptMessage` (0x80010001): header, msr_number u32 @40, reserved u32, rdx u64 @48,
 * rax u64 @56.
 */
export function encodeMsrInterceptMessage(
  header: InterceptHeaderFields,
  msr: number,
  rax: bigint,
  rdx: bigint
): Uint8Array {
  const view = message(
    HvInstructionInterceptMessageType.MsrIntercept,
    HV_X64_MSR_INTERCEPT_MESSAGE_SIZE,
    header
  )
  view.setUint32(16 + 40, msr, true)
  view.setBigUint64(16 + 48, rdx, true)
  view.setBigUint64(16 + 56, rax, true)
  return bytesOf(view)
}

/**
 * `HvX64IoPortInterceptMessage` (0x80010000): header, port u16 @40, access_info u8 @42 (size 2:0,
 * string 3, rep 4), instruction_byte_count u8 @43 (0: OpenHCL sends no bytes), reserved u32, rax
 * @48, instruction_bytes[16] @56, DS @72, ES @88, rcx @104, rsi @112, rdi @120.
 */
export function encodeIoPortInterceptMessage(
  header: InterceptHeaderFields,
  io: IoPortInterceptFields
): Uint8Array {
  const view = message(
    HvInstructionInterceptMessageType.X64IoPortIntercept,
    HV_X64_IO_PORT_INTERCEPT_MESSAGE_SIZE,
    header
  )
  const p = 16
  view.setUint16(p + 40, io.port, true)
  const info = (io.accessSize & 7) | (io.stringOp ? 8 : 0) | (io.repPrefix ? 0x10 : 0)
  view.setUint8(p + 42, info)
  view.setBigUint64(p + 48, io.rax, true)
  putSegmentRegister(view, p + 72, io.ds)
  putSegmentRegister(view, p + 88, io.es)
  view.setBigUint64(p + 104, io.rcx, true)
  view.setBigUint64(p + 112, io.rsi, true)
  view.setBigUint64(p + 120, io.rdi, true)
  return bytesOf(view)
}
