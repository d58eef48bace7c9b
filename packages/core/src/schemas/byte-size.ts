import { z } from 'zod'
import { formatHex } from './numbers.js'

const UNITS = [
  ['EiB', 60n],
  ['PiB', 50n],
  ['TiB', 40n],
  ['GiB', 30n],
  ['MiB', 20n],
  ['KiB', 10n],
] as const

const SHIFT: Readonly<Record<string, bigint>> = {
  B: 0n,
  KiB: 10n,
  MiB: 20n,
  GiB: 30n,
  TiB: 40n,
  PiB: 50n,
  EiB: 60n,
}

/** A count (decimal or `0x` hex) with an optional binary unit: `4096`, `0x1000`, `64MiB`, `1 GiB`. */
export const BYTE_SIZE_PATTERN = /^(0x[0-9a-fA-F]+|[0-9]+) ?(B|KiB|MiB|GiB|TiB|PiB|EiB)?$/

function parseByteSize(text: string): bigint {
  const match = BYTE_SIZE_PATTERN.exec(text)
  // The input schema already matched the pattern; this keeps the types honest.
  if (match === null) return -1n
  const [, count = '0', unit = 'B'] = match
  return BigInt(count) << (SHIFT[unit] ?? 0n)
}

/** Largest unit that divides the value exactly (`64MiB`); hex for anything else. */
export function formatByteSize(size: bigint): string {
  if (size === 0n) return '0'
  for (const [unit, shift] of UNITS) {
    if (size % (1n << shift) === 0n) return `${(size >> shift).toString()}${unit}`
  }
  return formatHex(size)
}

/**
 * A size in bytes: a JSON number, or a string with a binary unit (KiB … EiB). Becomes a bigint; is
 * written back in the largest exact unit.
 */
export const ByteSizeSchema = z.codec(
  z.union([
    z.int().min(0),
    z.string().regex(BYTE_SIZE_PATTERN, 'expected a byte count such as 4096, 0x1000 or 64MiB'),
  ]),
  z.bigint().min(0n).max(0xffff_ffff_ffff_ffffn),
  {
    decode: (value) => (typeof value === 'number' ? BigInt(value) : parseByteSize(value)),
    encode: (value) => formatByteSize(value),
  }
)
