import { VtlError } from '../errors/vtl-error.js'
import {
  checkObject,
  checkU128,
  checkU64,
  checkUint,
  expectAtLeast,
  readU128,
  readU24,
  viewOf,
  writeU128,
  writeU24,
} from './bytes.js'
import { repElementCount } from './gpn-list.js'

/**
 * `GetSetVpRegisters` header (16 B; abi.md §4.4): partition_id u64 @0, vp_index u32 @8, target_vtl
 * u8 @12 (`HvInputVtl`, raw), 3 reserved bytes @13.
 *
 * GetVpRegisters: rep elements are u32 register names, packed right after the header (no padding
 * to 8 bytes: hv1_hypercall sizes the input as header + 4 · rep_count); the output is one 16-byte
 * value per name. SetVpRegisters: rep elements are 32-byte `HvRegisterAssoc`, no output.
 */
export interface GetSetVpRegistersHeader {
  partitionId: bigint
  vpIndex: number
  /** The raw `HvInputVtl` byte; decode it with `decodeHvInputVtl`. */
  targetVtl: number
  /** Bytes 13..15 (LE), preserved, not checked. Optional when encoding, present when decoding. */
  reserved?: number
}

/**
 * `HvRegisterAssoc` (32 B): name u32 @0, 12 bytes of padding @4, value u128 @16. The padding is
 * written as zero and ignored when read (OpenHCL never looks at it).
 */
export interface HvRegisterAssoc {
  name: number
  /** The 128-bit `HvRegisterValue`; most registers use the low 64 bits. */
  value: bigint
}

export const GET_SET_VP_REGISTERS_HEADER_SIZE = 16
export const HV_REGISTER_NAME_SIZE = 4
export const HV_REGISTER_VALUE_SIZE = 16
export const HV_REGISTER_ASSOC_SIZE = 32

const HEADER = 'GetSetVpRegisters'
const GET = 'GetVpRegisters'
const SET = 'SetVpRegisters'

function checkHeader(header: GetSetVpRegistersHeader): number {
  checkObject(header, HEADER)
  checkU64(header.partitionId, HEADER, 'partitionId')
  checkUint(header.vpIndex, 32, HEADER, 'vpIndex')
  checkUint(header.targetVtl, 8, HEADER, 'targetVtl')
  const reserved = header.reserved ?? 0
  checkUint(reserved, 24, HEADER, 'reserved')
  return reserved
}

function putHeader(view: DataView, header: GetSetVpRegistersHeader, reserved: number): void {
  view.setBigUint64(0, header.partitionId, true)
  view.setUint32(8, header.vpIndex, true)
  view.setUint8(12, header.targetVtl)
  writeU24(view, 13, reserved)
}

function checkArray(value: unknown, field: string): void {
  if (!Array.isArray(value)) {
    throw new VtlError('E_FIELD_RANGE', `${field} must be an array`, { field })
  }
}

/** Reads the header: the first 16 bytes of a Get/SetVpRegisters input. */
export function decodeGetSetVpRegistersHeader(
  bytes: Uint8Array
): Required<GetSetVpRegistersHeader> {
  expectAtLeast(bytes, GET_SET_VP_REGISTERS_HEADER_SIZE, HEADER)
  const view = viewOf(bytes)
  return {
    partitionId: view.getBigUint64(0, true),
    vpIndex: view.getUint32(8, true),
    targetVtl: view.getUint8(12),
    reserved: readU24(view, 13),
  }
}

export function encodeGetVpRegisters(
  header: GetSetVpRegistersHeader,
  names: readonly number[]
): Uint8Array {
  const reserved = checkHeader(header)
  checkArray(names, `${GET}.names`)
  for (let i = 0; i < names.length; i++) checkUint(names[i] as number, 32, `${GET}.names[${i}]`)
  const bytes = new Uint8Array(
    GET_SET_VP_REGISTERS_HEADER_SIZE + names.length * HV_REGISTER_NAME_SIZE
  )
  const view = viewOf(bytes)
  putHeader(view, header, reserved)
  for (let i = 0; i < names.length; i++) {
    view.setUint32(
      GET_SET_VP_REGISTERS_HEADER_SIZE + i * HV_REGISTER_NAME_SIZE,
      names[i] as number,
      true
    )
  }
  return bytes
}

/** Reads `count` u32 register names at `offset`. */
export function readRegisterNames(bytes: Uint8Array, offset: number, count: number): number[] {
  expectAtLeast(bytes, 0, `${GET}.names`)
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(count) ||
    offset < 0 ||
    count < 0 ||
    offset + count * HV_REGISTER_NAME_SIZE > bytes.byteLength
  ) {
    throw new VtlError(
      'E_DECODE_LENGTH',
      `${String(count)} register names at offset ${String(offset)} do not fit in ${bytes.byteLength} bytes`,
      { field: `${GET}.names` }
    )
  }
  const view = viewOf(bytes)
  const names = new Array<number>(count)
  for (let i = 0; i < count; i++)
    names[i] = view.getUint32(offset + i * HV_REGISTER_NAME_SIZE, true)
  return names
}

/** Header plus every name; the length must be 16 + 4·n. */
export function decodeGetVpRegisters(bytes: Uint8Array): {
  header: Required<GetSetVpRegistersHeader>
  names: number[]
} {
  const header = decodeGetSetVpRegistersHeader(bytes)
  const count = repElementCount(bytes, GET_SET_VP_REGISTERS_HEADER_SIZE, HV_REGISTER_NAME_SIZE, GET)
  return { header, names: readRegisterNames(bytes, GET_SET_VP_REGISTERS_HEADER_SIZE, count) }
}

/** GetVpRegisters output: one 16-byte little-endian value per requested name. */
export function encodeRegisterValues(values: readonly bigint[]): Uint8Array {
  checkArray(values, `${GET}.values`)
  for (let i = 0; i < values.length; i++) checkU128(values[i] as bigint, `${GET}.values[${i}]`)
  const bytes = new Uint8Array(values.length * HV_REGISTER_VALUE_SIZE)
  const view = viewOf(bytes)
  for (let i = 0; i < values.length; i++) {
    writeU128(view, i * HV_REGISTER_VALUE_SIZE, values[i] as bigint)
  }
  return bytes
}

export function decodeRegisterValues(bytes: Uint8Array): bigint[] {
  const count = repElementCount(bytes, 0, HV_REGISTER_VALUE_SIZE, `${GET}.values`)
  const view = viewOf(bytes)
  const values = new Array<bigint>(count)
  for (let i = 0; i < count; i++) values[i] = readU128(view, i * HV_REGISTER_VALUE_SIZE)
  return values
}

export function encodeSetVpRegisters(
  header: GetSetVpRegistersHeader,
  registers: readonly HvRegisterAssoc[]
): Uint8Array {
  const reserved = checkHeader(header)
  checkArray(registers, `${SET}.registers`)
  for (let i = 0; i < registers.length; i++) {
    const assoc = registers[i] as HvRegisterAssoc
    checkObject(assoc, `${SET}.registers[${i}]`)
    checkUint(assoc.name, 32, `${SET}.registers[${i}]`, 'name')
    checkU128(assoc.value, `${SET}.registers[${i}]`, 'value')
  }
  const bytes = new Uint8Array(
    GET_SET_VP_REGISTERS_HEADER_SIZE + registers.length * HV_REGISTER_ASSOC_SIZE
  )
  const view = viewOf(bytes)
  putHeader(view, header, reserved)
  for (let i = 0; i < registers.length; i++) {
    const assoc = registers[i] as HvRegisterAssoc
    const at = GET_SET_VP_REGISTERS_HEADER_SIZE + i * HV_REGISTER_ASSOC_SIZE
    view.setUint32(at, assoc.name, true)
    writeU128(view, at + 16, assoc.value)
  }
  return bytes
}

/** Reads `count` 32-byte `HvRegisterAssoc` elements at `offset`. */
export function readRegisterAssocs(
  bytes: Uint8Array,
  offset: number,
  count: number
): HvRegisterAssoc[] {
  expectAtLeast(bytes, 0, `${SET}.registers`)
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(count) ||
    offset < 0 ||
    count < 0 ||
    offset + count * HV_REGISTER_ASSOC_SIZE > bytes.byteLength
  ) {
    throw new VtlError(
      'E_DECODE_LENGTH',
      `${String(count)} register associations at offset ${String(offset)} do not fit in ${bytes.byteLength} bytes`,
      { field: `${SET}.registers` }
    )
  }
  const view = viewOf(bytes)
  const out = new Array<HvRegisterAssoc>(count)
  for (let i = 0; i < count; i++) {
    const at = offset + i * HV_REGISTER_ASSOC_SIZE
    out[i] = { name: view.getUint32(at, true), value: readU128(view, at + 16) }
  }
  return out
}

/** Header plus every association; the length must be 16 + 32·n. */
export function decodeSetVpRegisters(bytes: Uint8Array): {
  header: Required<GetSetVpRegistersHeader>
  registers: HvRegisterAssoc[]
} {
  const header = decodeGetSetVpRegistersHeader(bytes)
  const count = repElementCount(
    bytes,
    GET_SET_VP_REGISTERS_HEADER_SIZE,
    HV_REGISTER_ASSOC_SIZE,
    SET
  )
  return { header, registers: readRegisterAssocs(bytes, GET_SET_VP_REGISTERS_HEADER_SIZE, count) }
}
