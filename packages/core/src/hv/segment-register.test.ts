import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeSegmentRegister,
  decodeTableRegister,
  encodeSegmentRegister,
  encodeTableRegister,
  readSegmentRegister,
  segmentRegisterFromValue,
  segmentRegisterToValue,
  tableRegisterFromValue,
  tableRegisterToValue,
  writeSegmentRegister,
} from './segment-register.js'
import { bytes, expectVtlError, segmentArb, tableArb, toHex, u128 } from './testing/arbitraries.js'

// A 64-bit code segment: base, limit, selector 0x10, attributes 0xA09B (G, L, P, S, type 0xB).
const CODE = { base: 0x0123456789abcdefn, limit: 0xfedcba98, selector: 0x0010, attributes: 0xa09b }
const CODE_BYTES = 'efcdab8967452301 98badcfe 1000 9ba0'
const CODE_VALUE = 0xa09b_0010_fedcba98_0123456789abcdefn

const GDT = { limit: 0x0fff, base: 0xfffff80000001000n }
const GDT_BYTES = '000000000000 ff0f 00100000 00f8ffff'
const GDT_VALUE = 0xfffff80000001000_0fff_000000000000n

describe('SegmentRegister (16 B: base @0, limit @8, selector @12, attributes @14)', () => {
  it('encodes to the hand-written bytes and back', () => {
    expect(toHex(encodeSegmentRegister(CODE))).toBe(toHex(bytes(CODE_BYTES)))
    expect(decodeSegmentRegister(bytes(CODE_BYTES))).toEqual(CODE)
  })

  it('converts to and from the 128-bit register value', () => {
    expect(segmentRegisterToValue(CODE)).toBe(CODE_VALUE)
    expect(segmentRegisterFromValue(CODE_VALUE)).toEqual(CODE)
  })

  it('writes at an offset inside a larger view and touches nothing else', () => {
    const buffer = new Uint8Array(40).fill(0xee)
    writeSegmentRegister(new DataView(buffer.buffer), 8, CODE)
    expect(toHex(buffer)).toBe('ee'.repeat(8) + toHex(bytes(CODE_BYTES)) + 'ee'.repeat(16))
    expect(readSegmentRegister(new DataView(buffer.buffer), 8)).toEqual(CODE)
  })

  it.each([
    ['base', { base: 1n << 64n }],
    ['base', { base: -1n }],
    ['limit', { limit: 0x1_0000_0000 }],
    ['selector', { selector: 0x10000 }],
    ['attributes', { attributes: -1 }],
  ])('refuses an out-of-range %s', (field, patch) => {
    expectVtlError(
      () => encodeSegmentRegister({ ...CODE, ...patch }),
      'E_FIELD_RANGE',
      `SegmentRegister.${field}`
    )
  })

  it('refuses a wrong length and a view with no room, with typed errors', () => {
    expectVtlError(() => decodeSegmentRegister(new Uint8Array(15)), 'E_DECODE_LENGTH')
    expectVtlError(() => decodeSegmentRegister(new Uint8Array(17)), 'E_DECODE_LENGTH')
    expectVtlError(
      () => readSegmentRegister(new DataView(new ArrayBuffer(20)), 8),
      'E_DECODE_LENGTH',
      'SegmentRegister'
    )
    expectVtlError(() => {
      writeSegmentRegister(new DataView(new ArrayBuffer(16)), -1, CODE)
    }, 'E_DECODE_LENGTH')
  })

  it('round-trips (bytes and u128 value)', () => {
    fc.assert(
      fc.property(segmentArb, (segment) => {
        expect(decodeSegmentRegister(encodeSegmentRegister(segment))).toEqual(segment)
        expect(segmentRegisterFromValue(segmentRegisterToValue(segment))).toEqual(segment)
      })
    )
    fc.assert(
      fc.property(u128, (value) => {
        expect(segmentRegisterToValue(segmentRegisterFromValue(value))).toBe(value)
      })
    )
  })
})

describe('TableRegister (16 B: 3×u16 padding, limit @6, base @8)', () => {
  it('encodes with zero padding', () => {
    expect(toHex(encodeTableRegister(GDT))).toBe(toHex(bytes(GDT_BYTES)))
    expect(tableRegisterToValue(GDT)).toBe(GDT_VALUE)
  })

  it('ignores the padding when decoding', () => {
    const dirty = bytes('a1a2a3a4a5a6 ff0f 00100000 00f8ffff')
    expect(decodeTableRegister(dirty)).toEqual(GDT)
    expect(tableRegisterFromValue(GDT_VALUE | 0xa6a5a4a3a2a1n)).toEqual(GDT)
  })

  it('refuses out-of-range fields', () => {
    expectVtlError(
      () => encodeTableRegister({ limit: 0x10000, base: 0n }),
      'E_FIELD_RANGE',
      'TableRegister.limit'
    )
    expectVtlError(
      () => encodeTableRegister({ limit: 0, base: 1n << 64n }),
      'E_FIELD_RANGE',
      'TableRegister.base'
    )
    expectVtlError(() => tableRegisterFromValue(1n << 128n), 'E_FIELD_RANGE', 'TableRegister')
    expectVtlError(() => decodeTableRegister(new Uint8Array(8)), 'E_DECODE_LENGTH')
  })

  it('round-trips', () => {
    fc.assert(
      fc.property(tableArb, (table) => {
        expect(decodeTableRegister(encodeTableRegister(table))).toEqual(table)
        expect(tableRegisterFromValue(tableRegisterToValue(table))).toEqual(table)
      })
    )
  })
})
