import { formatHex } from '../hv/bytes.js'
import { z } from 'zod'

// 64-bit values travel as strings (JSON numbers lose precision above 2^53) and become bigints;
// small values travel as numbers and stay numbers. Patterns spell out `[0-9a-fA-F]` because regex
// flags are dropped when a schema is exported as JSON Schema.

const U64_MAX = 0xffff_ffff_ffff_ffffn

/** `0x` followed by 1–16 hex digits. */
export const HEX_U64_PATTERN = /^0x[0-9a-fA-F]{1,16}$/
/** `0x` hex (any length) or decimal digits: range checks happen after conversion. */
export const NUMERIC_STRING_PATTERN = /^(0x[0-9a-fA-F]+|[0-9]+)$/

export { formatHex }

/** A strict hex-string ⇄ bigint codec: `"0x1f"` ⇄ `31n`. Encodes to lower-case `0x` hex. */
export const HexU64Schema = z.codec(
  z.string().regex(HEX_U64_PATTERN, 'expected 0x followed by 1 to 16 hex digits'),
  z.bigint().min(0n).max(U64_MAX),
  { decode: (text) => BigInt(text), encode: (value) => formatHex(value) }
)

const numericInput = z.union([
  z.int().min(0),
  z.string().regex(NUMERIC_STRING_PATTERN, 'expected a decimal or 0x hex number'),
])

/**
 * Any 64-bit value: a JSON number (safe integers only), a decimal string or a `0x` hex string on
 * input; a bigint inside; `0x` hex on output.
 */
export const U64Schema = z.codec(numericInput, z.bigint().min(0n).max(U64_MAX), {
  decode: (value) => BigInt(value),
  encode: (value) => formatHex(value),
})

/**
 * A small unsigned value (≤ 32 bits): a number, or a decimal / `0x` hex string, on input; a
 * number inside and on output.
 */
export function uintSchema(bits: number) {
  const max = 2 ** bits - 1
  return z.codec(numericInput, z.int().min(0).max(max), {
    decode: (value) => (typeof value === 'number' ? value : Number(value)),
    encode: (value) => value,
  })
}

export const U8Schema = uintSchema(8)
export const U16Schema = uintSchema(16)
export const U32Schema = uintSchema(32)
/** Number-or-hex for small values that are not tied to a width (counts, indexes). */
export const NumberOrHexSchema = z.codec(numericInput, z.int().min(0), {
  decode: (value) => (typeof value === 'number' ? value : Number(value)),
  encode: (value) => value,
})
