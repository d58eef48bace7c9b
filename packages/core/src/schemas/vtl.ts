import { z } from 'zod'

const vtlInput = z.union([
  z.int().min(0).max(2),
  z.string().regex(/^(0x)?[0-2]$/, 'expected a VTL: 0, 1 or 2'),
])

/** A VTL the ABI can name: 0, 1 or 2 (as a number, or a string such as `"1"`). */
export const VtlSchema = z.codec(vtlInput, z.union([z.literal(0), z.literal(1), z.literal(2)]), {
  decode: (value) => (typeof value === 'number' ? value : Number(value)) as 0 | 1 | 2,
  encode: (value) => value,
})

/** A VTL that runs guest code on TDX: 0 or 1. */
export const GuestVtlSchema = z.codec(
  z.union([z.int().min(0).max(1), z.string().regex(/^(0x)?[01]$/, 'expected a guest VTL: 0 or 1')]),
  z.union([z.literal(0), z.literal(1)]),
  {
    decode: (value) => (typeof value === 'number' ? value : Number(value)) as 0 | 1,
    encode: (value) => value,
  }
)
