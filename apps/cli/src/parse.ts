import { InvalidArgumentError } from 'commander'
import { parsePermissionText } from '@vtl/core'
import {
  ByteSizeSchema,
  GuestVtlSchema,
  MapGpaFlagsSchema,
  NumberOrHexSchema,
  U64Schema,
} from '@vtl/core/schemas'

// Option parsers for commander: each takes the raw text and returns the typed value, or throws
// commander's InvalidArgumentError (commander prints it as one line and we exit 2). The parsing
// itself is @vtl/core/schemas', so `vtl` accepts exactly what scenario files and the API accept.

function firstIssue(error: { issues: readonly { message: string }[] }): string {
  return error.issues[0]?.message ?? 'invalid value'
}

/** A 64-bit value, decimal or `0x` hex, kept as a bigint. */
export function parseU64(text: string): bigint {
  const r = U64Schema.safeParse(text.trim())
  if (!r.success)
    throw new InvalidArgumentError(
      `expected a 64-bit decimal or 0x hex number (${firstIssue(r.error)})`
    )
  return r.data
}

/** A small non-negative integer (index, count, code), decimal or `0x` hex. */
export function parseCount(text: string): number {
  const r = NumberOrHexSchema.safeParse(text.trim())
  if (!r.success || !Number.isSafeInteger(r.data)) {
    throw new InvalidArgumentError('expected a non-negative decimal or 0x hex integer')
  }
  return r.data
}

/** A positive integer. */
export function parsePositive(text: string): number {
  const n = parseCount(text)
  if (n < 1) throw new InvalidArgumentError('expected an integer of at least 1')
  return n
}

/** An integer in `[min, max]`, decimal or `0x` hex (the message names the range). */
export function parseIntIn(min: number, max: number): (text: string) => number {
  return (text) => {
    const r = NumberOrHexSchema.safeParse(text.trim())
    if (!r.success || !Number.isSafeInteger(r.data) || r.data < min || r.data > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`)
    }
    return r.data
  }
}

/** A byte size: `4096`, `0x1000`, `64MiB`, `1 GiB`. */
export function parseByteSize(text: string): bigint {
  const r = ByteSizeSchema.safeParse(text.trim())
  if (!r.success) throw new InvalidArgumentError('expected a size such as 4096, 0x1000 or 64MiB')
  return r.data
}

/** A guest VTL: 0 or 1. */
export function parseGuestVtl(text: string): 0 | 1 {
  const r = GuestVtlSchema.safeParse(text.trim())
  if (!r.success) throw new InvalidArgumentError('expected a guest VTL: 0 or 1')
  return r.data
}

/**
 * HvMapGpaFlags in the notation `vtl` prints (`rwxu` letters, `-` for a clear bit: `r---`, `rw`,
 * `none`), or the TLFS names (`R,W,KX,UX`, `Readable+Writable`), or a number.
 */
export function parseMapGpaFlags(text: string): number {
  const trimmed = text.trim()
  const letters = parsePermissionText(trimmed)
  if (letters !== undefined) return letters
  const input: unknown = /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(trimmed)
    ? trimmed
    : trimmed === '' || trimmed === '-' || trimmed.toLowerCase() === 'none'
      ? []
      : trimmed.split(/[,+| ]+/)
  const r = MapGpaFlagsSchema.safeParse(input)
  if (!r.success) {
    throw new InvalidArgumentError(
      'expected permissions as rwxu letters (r---, rw, rwx, none), TLFS names (R,W,KX,UX), or a number'
    )
  }
  return r.data
}

/** A 4 KiB aligned GPA (a page's first byte), decimal or `0x` hex. */
export function parsePageGpa(text: string): bigint {
  const gpa = parseU64(text)
  if (gpa % 4096n !== 0n) {
    throw new InvalidArgumentError(
      `expected a 4 KiB aligned GPA (a multiple of 0x1000, e.g. 0x${(gpa & ~0xfffn).toString(16)})`
    )
  }
  return gpa
}

/** A non-zero multiple of 4 KiB: `4096`, `0x2000`, `2MiB`. */
export function parsePageSize(text: string): bigint {
  const size = parseByteSize(text)
  if (size === 0n || size % 4096n !== 0n) {
    throw new InvalidArgumentError('expected a non-zero multiple of 4 KiB, such as 4KiB or 2MiB')
  }
  return size
}

/** A TD name: 1 to 64 characters (the daemon's limit). */
export function parseTdName(text: string): string {
  if (text.length < 1 || text.length > 64) {
    throw new InvalidArgumentError(`expected 1 to 64 characters, got ${text.length}`)
  }
  return text
}

/** Hex bytes (`0a 0b ff` or `0a0bff`, no `0x`), as in a scenario's raw hypercall `input`. */
export function parseHexBytes(text: string): Uint8Array {
  const compact = text.replace(/\s+/g, '')
  if (!/^([0-9a-fA-F]{2})*$/.test(compact)) {
    throw new InvalidArgumentError('expected hex byte pairs, e.g. "0100000000000000"')
  }
  const bytes = new Uint8Array(compact.length / 2)
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(compact.slice(i * 2, i * 2 + 2), 16)
  return bytes
}

/** A TCP vtld: `http://host:port` (plain HTTP, as vtld's `--listen`); path and query unused. */
export function parseDaemonUrl(text: string): URL {
  let url: URL
  try {
    url = new URL(text.trim())
  } catch {
    throw new InvalidArgumentError('expected a URL such as http://127.0.0.1:7070')
  }
  if (url.protocol !== 'http:' || url.hostname === '') {
    throw new InvalidArgumentError('expected an http://host:port URL (vtld speaks plain HTTP)')
  }
  return url
}
