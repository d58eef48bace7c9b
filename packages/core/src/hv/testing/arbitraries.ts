// Test-only helpers shared by the hv and validation tests (not exported from any barrel).
import fc from 'fast-check'
import { expect } from 'vitest'
import { VtlError, type VtlErrorCode } from '../../errors/vtl-error.js'
import type { InitialVpContextX64 } from '../initial-vp-context.js'
import type { SegmentRegister, TableRegister } from '../segment-register.js'

/** Bytes from a hex string written out by hand; whitespace and `|` separators are ignored. */
export function bytes(text: string): Uint8Array {
  const clean = text.replace(/[\s|]/g, '')
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new Error(`bad hex literal: ${text}`)
  }
  const out = new Uint8Array(clean.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16)
  return out
}

export function toHex(data: Uint8Array): string {
  return Array.from(data, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** Runs `fn` and checks it throws a VtlError with this code (and field, when given). */
export function expectVtlError(fn: () => unknown, code: VtlErrorCode, field?: string): VtlError {
  let caught: unknown
  try {
    fn()
  } catch (error) {
    caught = error
  }
  expect(VtlError.isInstance(caught), `expected a VtlError ${code}, got ${String(caught)}`).toBe(
    true
  )
  const error = caught as VtlError
  expect(error.code).toBe(code)
  if (field !== undefined) expect(error.field).toBe(field)
  return error
}

export const u8 = fc.integer({ min: 0, max: 0xff })
export const u16 = fc.integer({ min: 0, max: 0xffff })
export const u24 = fc.integer({ min: 0, max: 0xff_ffff })
export const u32 = fc.integer({ min: 0, max: 0xffff_ffff })
export const u64 = fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn })
export const u128 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n })

export const segmentArb: fc.Arbitrary<SegmentRegister> = fc.record({
  base: u64,
  limit: u32,
  selector: u16,
  attributes: u16,
})

export const tableArb: fc.Arbitrary<TableRegister> = fc.record({ limit: u16, base: u64 })

export const contextArb: fc.Arbitrary<InitialVpContextX64> = fc.record({
  rip: u64,
  rsp: u64,
  rflags: u64,
  cs: segmentArb,
  ds: segmentArb,
  es: segmentArb,
  fs: segmentArb,
  gs: segmentArb,
  ss: segmentArb,
  tr: segmentArb,
  ldtr: segmentArb,
  idtr: tableArb,
  gdtr: tableArb,
  efer: u64,
  cr0: u64,
  cr3: u64,
  cr4: u64,
  msrCrPat: u64,
})

/**
 * The context whose 224 bytes are 0x01, 0x02, … 0xE0 in order, except the table registers'
 * six padding bytes, which the encoder writes as zero. Values worked out by hand from the offset
 * table of vsm-on-tdx.md §1.4.
 */
export const SEQUENTIAL_CONTEXT: InitialVpContextX64 = {
  rip: 0x0807060504030201n,
  rsp: 0x100f0e0d0c0b0a09n,
  rflags: 0x1817161514131211n,
  cs: { base: 0x201f1e1d1c1b1a19n, limit: 0x24232221, selector: 0x2625, attributes: 0x2827 },
  ds: { base: 0x302f2e2d2c2b2a29n, limit: 0x34333231, selector: 0x3635, attributes: 0x3837 },
  es: { base: 0x403f3e3d3c3b3a39n, limit: 0x44434241, selector: 0x4645, attributes: 0x4847 },
  fs: { base: 0x504f4e4d4c4b4a49n, limit: 0x54535251, selector: 0x5655, attributes: 0x5857 },
  gs: { base: 0x605f5e5d5c5b5a59n, limit: 0x64636261, selector: 0x6665, attributes: 0x6867 },
  ss: { base: 0x706f6e6d6c6b6a69n, limit: 0x74737271, selector: 0x7675, attributes: 0x7877 },
  tr: { base: 0x807f7e7d7c7b7a79n, limit: 0x84838281, selector: 0x8685, attributes: 0x8887 },
  ldtr: { base: 0x908f8e8d8c8b8a89n, limit: 0x94939291, selector: 0x9695, attributes: 0x9897 },
  idtr: { limit: 0xa09f, base: 0xa8a7a6a5a4a3a2a1n },
  gdtr: { limit: 0xb0af, base: 0xb8b7b6b5b4b3b2b1n },
  efer: 0xc0bfbebdbcbbbab9n,
  cr0: 0xc8c7c6c5c4c3c2c1n,
  cr3: 0xd0cfcecdcccbcac9n,
  cr4: 0xd8d7d6d5d4d3d2d1n,
  msrCrPat: 0xe0dfdedddcdbdad9n,
}

/** What the encoder must produce for SEQUENTIAL_CONTEXT, 16 bytes a line. */
export const SEQUENTIAL_CONTEXT_BYTES = bytes(`
  01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10
  11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20
  21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30
  31 32 33 34 35 36 37 38 39 3a 3b 3c 3d 3e 3f 40
  41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f 50
  51 52 53 54 55 56 57 58 59 5a 5b 5c 5d 5e 5f 60
  61 62 63 64 65 66 67 68 69 6a 6b 6c 6d 6e 6f 70
  71 72 73 74 75 76 77 78 79 7a 7b 7c 7d 7e 7f 80
  81 82 83 84 85 86 87 88 89 8a 8b 8c 8d 8e 8f 90
  91 92 93 94 95 96 97 98 00 00 00 00 00 00 9f a0
  a1 a2 a3 a4 a5 a6 a7 a8 00 00 00 00 00 00 af b0
  b1 b2 b3 b4 b5 b6 b7 b8 b9 ba bb bc bd be bf c0
  c1 c2 c3 c4 c5 c6 c7 c8 c9 ca cb cc cd ce cf d0
  d1 d2 d3 d4 d5 d6 d7 d8 d9 da db dc dd de df e0
`)
