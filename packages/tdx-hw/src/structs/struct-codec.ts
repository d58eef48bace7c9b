import { VtlError } from '@vtl/core'

/** Field types of a fixed-layout C struct (little-endian). */
export type FieldType = 'u8' | 'u16' | 'u32' | 's32' | 'u64'
type FieldValue<T extends FieldType> = T extends 'u64' ? bigint : number

export type Layout = Record<string, readonly [offset: number, type: FieldType]>
export type StructValue<L extends Layout> = { [K in keyof L]: FieldValue<L[K][1]> }

/** A codec for one C struct: its size, field offsets, encode and decode. */
export interface StructCodec<L extends Layout> {
  readonly name: string
  readonly size: number
  readonly layout: L
  /** Fields left out are 0; padding stays 0. */
  encode(value: Partial<StructValue<L>>): Uint8Array
  /** Writes into `bytes` at `offset` (e.g. a mapped page); same checks as `encode`. */
  write(bytes: Uint8Array, value: Partial<StructValue<L>>, offset?: number): void
  /** Exactly `size` bytes, else `E_DECODE_LENGTH`. */
  decode(bytes: Uint8Array): StructValue<L>
  /** Reads at `offset` of a larger buffer (a run page). */
  read(bytes: Uint8Array, offset?: number): StructValue<L>
}

const LIMITS: Readonly<Record<Exclude<FieldType, 'u64'>, readonly [number, number]>> = {
  u8: [0, 0xff],
  u16: [0, 0xffff],
  u32: [0, 0xffff_ffff],
  s32: [-0x8000_0000, 0x7fff_ffff],
}

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

export function expectSize(bytes: Uint8Array, size: number, name: string): void {
  if (bytes.byteLength !== size) {
    throw new VtlError('E_DECODE_LENGTH', `${name} is ${size} bytes, got ${bytes.byteLength}`, {
      field: name,
    })
  }
}

function checkValue(type: FieldType, value: number | bigint, field: string): void {
  if (type === 'u64') {
    if (typeof value !== 'bigint' || value < 0n || value > 0xffff_ffff_ffff_ffffn) {
      throw new VtlError('E_FIELD_RANGE', `${field} must be a u64 bigint, got ${value}`, { field })
    }
    return
  }
  const [min, max] = LIMITS[type]
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new VtlError('E_FIELD_RANGE', `${field} must be a ${type}, got ${value}`, { field })
  }
}

export function defineStruct<L extends Layout>(
  name: string,
  size: number,
  layout: L
): StructCodec<L> {
  const fields = Object.entries(layout)
  const write = (bytes: Uint8Array, value: Partial<StructValue<L>>, offset = 0): void => {
    if (offset < 0 || offset + size > bytes.byteLength) {
      throw new VtlError('E_DECODE_LENGTH', `${name} (${size} B) does not fit at ${offset}`, {
        field: name,
      })
    }
    const view = viewOf(bytes)
    for (const [field, [at, type]] of fields) {
      const v = (value as Record<string, number | bigint | undefined>)[field]
      if (v === undefined) continue
      checkValue(type, v, `${name}.${field}`)
      const o = offset + at
      if (type === 'u64') view.setBigUint64(o, v as bigint, true)
      else if (type === 'u32') view.setUint32(o, v as number, true)
      else if (type === 's32') view.setInt32(o, v as number, true)
      else if (type === 'u16') view.setUint16(o, v as number, true)
      else view.setUint8(o, v as number)
    }
  }
  const read = (bytes: Uint8Array, offset = 0): StructValue<L> => {
    if (offset < 0 || offset + size > bytes.byteLength) {
      throw new VtlError('E_DECODE_LENGTH', `${name} (${size} B) does not fit at ${offset}`, {
        field: name,
      })
    }
    const view = viewOf(bytes)
    const out: Record<string, number | bigint> = {}
    for (const [field, [at, type]] of fields) {
      const o = offset + at
      out[field] =
        type === 'u64'
          ? view.getBigUint64(o, true)
          : type === 'u32'
            ? view.getUint32(o, true)
            : type === 's32'
              ? view.getInt32(o, true)
              : type === 'u16'
                ? view.getUint16(o, true)
                : view.getUint8(o)
    }
    return out as StructValue<L>
  }
  return {
    name,
    size,
    layout,
    encode(value) {
      const bytes = new Uint8Array(size)
      write(bytes, value)
      return bytes
    },
    write,
    decode(bytes) {
      expectSize(bytes, size, name)
      return read(bytes)
    },
    read,
  }
}
