import {
  checkObject,
  checkU128,
  checkU64,
  checkUint,
  expectLength,
  expectRoom,
  isObject,
  readU64,
  viewOf,
} from './bytes.js'

/** `HvX64SegmentRegister` (16 B): base u64 @0, limit u32 @8, selector u16 @12, attributes u16 @14. */
export interface SegmentRegister {
  base: bigint
  limit: number
  selector: number
  attributes: number
}

/**
 * `HvX64TableRegister` (16 B): three u16 of padding @0..6, limit u16 @6, base u64 @8.
 *
 * The padding is written as zero and ignored when read: nothing (OpenHCL, the TLFS, the VMCS)
 * gives it a meaning or checks it, so carrying it would only put ABI noise into contexts and
 * scenario files. Use the raw bytes if you need to see what a guest put there.
 */
export interface TableRegister {
  limit: number
  base: bigint
}

export const SEGMENT_REGISTER_SIZE = 16
export const TABLE_REGISTER_SIZE = 16

function isUint(value: unknown, max: number): boolean {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= max
}

function isU64(value: unknown): boolean {
  return typeof value === 'bigint' && value >= 0n && value <= 0xffff_ffff_ffff_ffffn
}

// The checks test everything first and only build field names (strings) on the way to an error:
// they run for every segment of every context encoded.

/** `field` and `sub` name the register in errors, e.g. `InitialVpContextX64` + `cs`. */
export function checkSegmentRegister(
  segment: SegmentRegister,
  field = 'SegmentRegister',
  sub?: string
): void {
  if (
    isObject(segment) &&
    isU64(segment.base) &&
    isUint(segment.limit, 0xffff_ffff) &&
    isUint(segment.selector, 0xffff) &&
    isUint(segment.attributes, 0xffff)
  ) {
    return
  }
  const name = sub === undefined ? field : `${field}.${sub}`
  checkObject(segment, name)
  checkU64(segment.base, name, 'base')
  checkUint(segment.limit, 32, name, 'limit')
  checkUint(segment.selector, 16, name, 'selector')
  checkUint(segment.attributes, 16, name, 'attributes')
}

export function checkTableRegister(
  table: TableRegister,
  field = 'TableRegister',
  sub?: string
): void {
  if (isObject(table) && isUint(table.limit, 0xffff) && isU64(table.base)) {
    return
  }
  const name = sub === undefined ? field : `${field}.${sub}`
  checkObject(table, name)
  checkUint(table.limit, 16, name, 'limit')
  checkU64(table.base, name, 'base')
}

/** Writes without checks; callers have run `checkSegmentRegister` and `expectRoom`. */
export function putSegmentRegister(view: DataView, offset: number, segment: SegmentRegister): void {
  view.setBigUint64(offset, segment.base, true)
  view.setUint32(offset + 8, segment.limit, true)
  view.setUint16(offset + 12, segment.selector, true)
  view.setUint16(offset + 14, segment.attributes, true)
}

/** Writes without checks; callers have run `checkTableRegister` and `expectRoom`. */
export function putTableRegister(view: DataView, offset: number, table: TableRegister): void {
  view.setUint16(offset, 0, true)
  view.setUint16(offset + 2, 0, true)
  view.setUint16(offset + 4, 0, true)
  view.setUint16(offset + 6, table.limit, true)
  view.setBigUint64(offset + 8, table.base, true)
}

export function writeSegmentRegister(
  view: DataView,
  offset: number,
  segment: SegmentRegister,
  field = 'SegmentRegister'
): void {
  expectRoom(view, offset, SEGMENT_REGISTER_SIZE, field)
  checkSegmentRegister(segment, field)
  putSegmentRegister(view, offset, segment)
}

export function readSegmentRegister(
  view: DataView,
  offset: number,
  field = 'SegmentRegister'
): SegmentRegister {
  expectRoom(view, offset, SEGMENT_REGISTER_SIZE, field)
  return {
    base: readU64(view, offset),
    limit: view.getUint32(offset + 8, true),
    selector: view.getUint16(offset + 12, true),
    attributes: view.getUint16(offset + 14, true),
  }
}

export function writeTableRegister(
  view: DataView,
  offset: number,
  table: TableRegister,
  field = 'TableRegister'
): void {
  expectRoom(view, offset, TABLE_REGISTER_SIZE, field)
  checkTableRegister(table, field)
  putTableRegister(view, offset, table)
}

export function readTableRegister(
  view: DataView,
  offset: number,
  field = 'TableRegister'
): TableRegister {
  expectRoom(view, offset, TABLE_REGISTER_SIZE, field)
  return { limit: view.getUint16(offset + 6, true), base: readU64(view, offset + 8) }
}

export function encodeSegmentRegister(segment: SegmentRegister): Uint8Array {
  const bytes = new Uint8Array(SEGMENT_REGISTER_SIZE)
  writeSegmentRegister(viewOf(bytes), 0, segment)
  return bytes
}

export function decodeSegmentRegister(bytes: Uint8Array): SegmentRegister {
  expectLength(bytes, SEGMENT_REGISTER_SIZE, 'SegmentRegister')
  return readSegmentRegister(viewOf(bytes), 0)
}

export function encodeTableRegister(table: TableRegister): Uint8Array {
  const bytes = new Uint8Array(TABLE_REGISTER_SIZE)
  writeTableRegister(viewOf(bytes), 0, table)
  return bytes
}

export function decodeTableRegister(bytes: Uint8Array): TableRegister {
  expectLength(bytes, TABLE_REGISTER_SIZE, 'TableRegister')
  return readTableRegister(viewOf(bytes), 0)
}

// Get/SetVpRegisters carry segment and table registers as a 128-bit register value with the same
// little-endian layout as above; these convert between that value and the structured form.

/** The `HvRegisterValue` (u128) of a segment register (Cs, Ds, …, Ldtr, Tr). */
export function segmentRegisterToValue(segment: SegmentRegister): bigint {
  checkSegmentRegister(segment)
  return (
    segment.base |
    (BigInt(segment.limit) << 64n) |
    (BigInt(segment.selector) << 96n) |
    (BigInt(segment.attributes) << 112n)
  )
}

export function segmentRegisterFromValue(value: bigint): SegmentRegister {
  checkU128(value, 'SegmentRegister')
  return {
    base: value & 0xffff_ffff_ffff_ffffn,
    limit: Number((value >> 64n) & 0xffff_ffffn),
    selector: Number((value >> 96n) & 0xffffn),
    attributes: Number(value >> 112n),
  }
}

/** The `HvRegisterValue` (u128) of Idtr or Gdtr; the padding bits 47:0 are zero. */
export function tableRegisterToValue(table: TableRegister): bigint {
  checkTableRegister(table)
  return (BigInt(table.limit) << 48n) | (table.base << 64n)
}

/** Reads limit and base of a table-register value; padding bits 47:0 are ignored. */
export function tableRegisterFromValue(value: bigint): TableRegister {
  checkU128(value, 'TableRegister')
  return { limit: Number((value >> 48n) & 0xffffn), base: value >> 64n }
}

/** Bits of `SegmentRegister.attributes` (TLFS layout; bits 11:8 are reserved). */
export const SegmentAttributes = {
  /** Type field 3:0. */
  TypeMask: 0x000f,
  /** S: code/data (1) or system (0). */
  NonSystem: 1 << 4,
  /** DPL 6:5. */
  DplMask: 0x0060,
  Present: 1 << 7,
  Available: 1 << 12,
  /** L: 64-bit code segment. */
  Long: 1 << 13,
  /** D/B: default operand size 32-bit. */
  Default: 1 << 14,
  Granularity: 1 << 15,
} as const
