import { VtlError } from '../errors/vtl-error.js'
import { U64_MAX, formatHex, isObject } from './bytes.js'

// A small declarative bit-field codec for the 64-bit synthetic registers: each register lists its
// fields once (bit offset, width) and gets a checked encoder and a decoder that reports (and on
// request refuses) the bits no field names.

export interface FlagSpec {
  readonly kind: 'flag'
  readonly shift: number
}

export interface UintSpec {
  readonly kind: 'uint'
  readonly shift: number
  readonly width: number
}

export type FieldSpec = FlagSpec | UintSpec

export function flag(shift: number): FlagSpec {
  return { kind: 'flag', shift }
}

/** A field of `width` ≤ 32 bits starting at `shift`. */
export function uint(shift: number, width: number): UintSpec {
  return { kind: 'uint', shift, width }
}

export type BitfieldValue<D extends Record<string, FieldSpec>> = {
  -readonly [K in keyof D]: D[K] extends FlagSpec ? boolean : number
}

/** What decoding yields: every field, plus the bits no field covers (in place). */
export type DecodedBitfield<D extends Record<string, FieldSpec>> = BitfieldValue<D> & {
  reserved: bigint
}

/** What encoding accepts: any subset of the fields (missing = 0/false), optional reserved bits. */
export type BitfieldInput<D extends Record<string, FieldSpec>> = Partial<BitfieldValue<D>> & {
  reserved?: bigint
}

export interface DecodeOptions {
  /** Throw `E_RESERVED_BITS` when a bit outside every field is set (default: report only). */
  rejectReserved?: boolean
}

export interface BitfieldCodec<D extends Record<string, FieldSpec>> {
  readonly name: string
  readonly fields: D
  /** Bits covered by a field. */
  readonly definedMask: bigint
  /** Bits covered by no field. */
  readonly reservedMask: bigint
  encode(value: BitfieldInput<D>): bigint
  decode(raw: bigint, options?: DecodeOptions): DecodedBitfield<D>
}

function maskOf(spec: FieldSpec): bigint {
  const width = spec.kind === 'flag' ? 1 : spec.width
  return ((1n << BigInt(width)) - 1n) << BigInt(spec.shift)
}

export function defineBitfield<const D extends Record<string, FieldSpec>>(
  name: string,
  fields: D
): BitfieldCodec<D> {
  const entries = Object.entries(fields)
  let definedMask = 0n
  for (const [field, spec] of entries) {
    const mask = maskOf(spec)
    // A table error, caught when the module loads.
    if ((definedMask & mask) !== 0n || (mask & ~U64_MAX) !== 0n) {
      throw new VtlError('E_INVARIANT', `${name}.${field} overlaps another field`, {
        field: `${name}.${field}`,
      })
    }
    definedMask |= mask
  }
  const reservedMask = U64_MAX & ~definedMask

  return {
    name,
    fields,
    definedMask,
    reservedMask,
    encode(value: BitfieldInput<D>): bigint {
      if (!isObject(value)) {
        throw new VtlError('E_FIELD_RANGE', `${name} must be an object`, { field: name })
      }
      const input = value as Record<string, unknown>
      let raw = 0n
      for (const [field, spec] of entries) {
        const v = input[field]
        if (v === undefined) continue
        if (spec.kind === 'flag') {
          if (typeof v !== 'boolean') {
            throw new VtlError('E_FIELD_RANGE', `${name}.${field} must be a boolean`, {
              field: `${name}.${field}`,
            })
          }
          if (v) raw |= 1n << BigInt(spec.shift)
        } else {
          if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= 2 ** spec.width) {
            throw new VtlError(
              'E_FIELD_RANGE',
              `${name}.${field} must be an unsigned ${spec.width}-bit integer`,
              { field: `${name}.${field}` }
            )
          }
          raw |= BigInt(v) << BigInt(spec.shift)
        }
      }
      const reserved = value.reserved ?? 0n
      if (typeof reserved !== 'bigint' || (reserved & ~reservedMask) !== 0n || reserved < 0n) {
        throw new VtlError(
          'E_FIELD_RANGE',
          `${name}.reserved must be a bigint within the reserved bits ${formatHex(reservedMask)}`,
          { field: `${name}.reserved` }
        )
      }
      return raw | reserved
    },
    decode(raw: bigint, options: DecodeOptions = {}): DecodedBitfield<D> {
      if (typeof raw !== 'bigint' || raw < 0n || raw > U64_MAX) {
        throw new VtlError('E_FIELD_RANGE', `${name} must be an unsigned 64-bit bigint`, {
          field: name,
        })
      }
      const reserved = raw & reservedMask
      if (options.rejectReserved === true && reserved !== 0n) {
        throw new VtlError(
          'E_RESERVED_BITS',
          `${name}: reserved bits ${formatHex(reserved)} are set`,
          {
            field: `${name}.reserved`,
          }
        )
      }
      const out: Record<string, boolean | number | bigint> = { reserved }
      for (const [field, spec] of entries) {
        out[field] =
          spec.kind === 'flag'
            ? ((raw >> BigInt(spec.shift)) & 1n) === 1n
            : Number((raw >> BigInt(spec.shift)) & ((1n << BigInt(spec.width)) - 1n))
      }
      return out as DecodedBitfield<D>
    },
  }
}
