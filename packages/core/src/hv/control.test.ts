import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeHypercallControl,
  decodeHypercallResult,
  encodeHypercallControl,
  encodeHypercallResult,
  HYPERCALL_CONTROL_RESERVED_MASK,
  HYPERCALL_RESULT_RESERVED_MASK,
  type HypercallControl,
} from './control.js'
import { expectVtlError } from './testing/arbitraries.js'

const simple = (code: number): HypercallControl => ({
  code,
  fast: false,
  variableHeaderSize: 0,
  nested: false,
  repCount: 0,
  repStart: 0,
})

describe('hypercall control word', () => {
  // Words written from the bit table of vsm-on-tdx.md §1.1.
  const vectors: [string, HypercallControl, bigint][] = [
    ['EnableVpVtl, simple', simple(0x000f), 0x0000_0000_0000_000fn],
    ['fast bit 16', { ...simple(0x0011), fast: true }, 0x0000_0000_0001_0011n],
    ['variable header 2 qwords at 26:17', { ...simple(0x0013), variableHeaderSize: 2 }, 0x4_0013n],
    ['nested bit 31', { ...simple(0x0050), nested: true }, 0x0000_0000_8000_0050n],
    [
      'ModifyVtlProtectionMask, 3 reps from 1',
      { ...simple(0x000c), repCount: 3, repStart: 1 },
      0x0001_0003_0000_000cn,
    ],
    [
      'every field at its maximum',
      {
        code: 0xabcd,
        fast: true,
        variableHeaderSize: 0x3ff,
        nested: true,
        repCount: 0xfff,
        repStart: 0xfff,
      },
      0x0fff_0fff_87ff_abcdn,
    ],
  ]

  it.each(vectors)('%s encodes and decodes', (_name, control, word) => {
    expect(encodeHypercallControl(control)).toBe(word)
    expect(decodeHypercallControl(word)).toEqual({ ...control, reservedBits: 0n })
  })

  it('the reserved mask is exactly bits 30:27, 47:44 and 63:60', () => {
    expect(HYPERCALL_CONTROL_RESERVED_MASK).toBe(0xf000_f000_7800_0000n)
    // Every defined field at its maximum plus the reserved bits covers all 64 bits.
    expect(0x0fff_0fff_87ff_abcdn | 0xffffn | HYPERCALL_CONTROL_RESERVED_MASK).toBe(
      0xffff_ffff_ffff_ffffn
    )
  })

  it.each([
    [1n << 27n, 'bit 27'],
    [1n << 30n, 'bit 30'],
    [1n << 44n, 'bit 44'],
    [1n << 47n, 'bit 47'],
    [1n << 60n, 'bit 60'],
    [1n << 63n, 'bit 63'],
  ])('reports reserved %s without refusing the word', (bit) => {
    const decoded = decodeHypercallControl(0x11n | bit)
    expect(decoded.reservedBits).toBe(bit)
    expect(decoded.code).toBe(0x11)
    expect(decoded.repCount).toBe(0)
  })

  it.each([
    ['code', { code: 0x1_0000 }],
    ['code', { code: -1 }],
    ['variableHeaderSize', { variableHeaderSize: 0x400 }],
    ['repCount', { repCount: 0x1000 }],
    ['repStart', { repStart: 4096 }],
    ['repStart', { repStart: 1.5 }],
    ['fast', { fast: 1 as unknown as boolean }],
    ['reservedBits', { reservedBits: 1n << 16n }],
  ])('refuses an out-of-range %s naming the field', (field, patch) => {
    expectVtlError(
      () => encodeHypercallControl({ ...simple(1), ...patch }),
      'E_FIELD_RANGE',
      `HypercallControl.${field}`
    )
  })

  it('refuses a word that is not an unsigned 64-bit bigint', () => {
    expectVtlError(() => decodeHypercallControl(1n << 64n), 'E_FIELD_RANGE', 'HypercallControl')
    expectVtlError(() => decodeHypercallControl(-1n), 'E_FIELD_RANGE', 'HypercallControl')
    expectVtlError(
      () => decodeHypercallControl(5 as unknown as bigint),
      'E_FIELD_RANGE',
      'HypercallControl'
    )
  })

  const controlArb = fc.record({
    code: fc.integer({ min: 0, max: 0xffff }),
    fast: fc.boolean(),
    variableHeaderSize: fc.integer({ min: 0, max: 0x3ff }),
    nested: fc.boolean(),
    repCount: fc.integer({ min: 0, max: 0xfff }),
    repStart: fc.integer({ min: 0, max: 0xfff }),
    reservedBits: fc
      .bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn })
      .map((v) => v & HYPERCALL_CONTROL_RESERVED_MASK),
  })

  it('decode(encode(x)) = x', () => {
    fc.assert(
      fc.property(controlArb, (control) => {
        expect(decodeHypercallControl(encodeHypercallControl(control))).toEqual(control)
      })
    )
  })

  it('encode(decode(w)) = w for every 64-bit word', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }), (word) => {
        expect(encodeHypercallControl(decodeHypercallControl(word))).toBe(word)
      })
    )
  })
})

describe('hypercall result word', () => {
  it.each([
    [{ status: 0, repsCompleted: 0 }, 0n],
    [{ status: 0x0051, repsCompleted: 0 }, 0x51n],
    [{ status: 0x0008, repsCompleted: 2 }, 0x0000_0002_0000_0008n],
    [{ status: 0xffff, repsCompleted: 0xfff }, 0x0000_0fff_0000_ffffn],
  ])('%o ⇄ %s', (result, word) => {
    expect(encodeHypercallResult(result)).toBe(word)
    expect(decodeHypercallResult(word)).toEqual({ ...result, reservedBits: 0n })
  })

  it('reports reserved bits 31:16 and 63:44', () => {
    expect(HYPERCALL_RESULT_RESERVED_MASK).toBe(0xffff_f000_ffff_0000n)
    expect(decodeHypercallResult(0x8000_1000_0001_0005n)).toEqual({
      status: 5,
      repsCompleted: 0,
      reservedBits: 0x8000_1000_0001_0000n,
    })
  })

  it('range-checks status and repsCompleted', () => {
    expectVtlError(
      () => encodeHypercallResult({ status: 0x10000, repsCompleted: 0 }),
      'E_FIELD_RANGE',
      'HypercallResult.status'
    )
    expectVtlError(
      () => encodeHypercallResult({ status: 0, repsCompleted: 0x1000 }),
      'E_FIELD_RANGE',
      'HypercallResult.repsCompleted'
    )
    expectVtlError(
      () => encodeHypercallResult({ status: 0, repsCompleted: 0, reservedBits: 1n }),
      'E_FIELD_RANGE',
      'HypercallResult.reservedBits'
    )
  })

  it('round-trips', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xfff }),
        fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }),
        (status, repsCompleted, noise) => {
          const result = {
            status,
            repsCompleted,
            reservedBits: noise & HYPERCALL_RESULT_RESERVED_MASK,
          }
          expect(decodeHypercallResult(encodeHypercallResult(result))).toEqual(result)
        }
      )
    )
  })
})
