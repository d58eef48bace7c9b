import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  MSR_BITMAP_WORDS,
  msrBitmapFieldId,
  msrBitmapPosition,
  msrBitmapWrite,
} from './msr-bitmap.js'

const code = (c: string): Error => expect.objectContaining({ code: c }) as Error

// [msr, write, word, bit], worked out by hand from the §6.2 formula.
const POSITIONS: readonly (readonly [number, boolean, number, number])[] = [
  [0x10, false, 0x00, 16], // IA32_TSC
  [0x10, true, 0x100, 16],
  [0x0, false, 0x00, 0],
  [0x174, false, 0x05, 52], // SYSENTER_CS: 0x174 = 5 * 64 + 52
  [0x176, true, 0x105, 54], // SYSENTER_EIP
  [0x800, false, 0x20, 0], // first x2APIC MSR
  [0x1fff, true, 0x17f, 63],
  [0xc000_0080, false, 0x82, 0], // EFER
  [0xc000_0080, true, 0x182, 0],
  [0xc000_0082, false, 0x82, 2], // LSTAR
  [0xc000_0100, true, 0x184, 0], // FS_BASE
  [0xc000_0102, false, 0x84, 2], // KERNEL_GS_BASE
  [0xc000_0103, false, 0x84, 3], // TSC_AUX
  [0xc000_1fff, true, 0x1ff, 63],
]

describe('msrBitmapPosition', () => {
  it.each(POSITIONS)('MSR %i write=%s → word %i bit %i', (msr, write, word, bit) => {
    expect(msrBitmapPosition(msr, write)).toEqual({ word, bit })
  })

  it.each([0x2000, 0x4000_0000, 0x4000_0073, 0xbfff_ffff, 0xc000_2000, 0xffff_ffff])(
    'rejects MSR %i outside both ranges with E_FIELD_RANGE',
    (msr) => {
      expect(() => msrBitmapPosition(msr, false)).toThrow(code('E_FIELD_RANGE'))
    }
  )

  it('rejects values that are not u32 integers', () => {
    expect(() => msrBitmapPosition(-1, false)).toThrow(code('E_FIELD_RANGE'))
    expect(() => msrBitmapPosition(0x1_0000_0000, false)).toThrow(code('E_FIELD_RANGE'))
  })

  it('maps every MSR in range to a distinct (word, bit) in its quarter', () => {
    const msr = fc.oneof(
      fc.integer({ min: 0, max: 0x1fff }),
      fc.integer({ min: 0xc000_0000, max: 0xc000_1fff })
    )
    fc.assert(
      fc.property(msr, fc.boolean(), (m, write) => {
        const { word, bit } = msrBitmapPosition(m, write)
        const quarter = (m >= 0xc000_0000 ? 1 : 0) + (write ? 2 : 0)
        expect(Math.floor(word / 0x80)).toBe(quarter)
        expect((word % 0x80) * 64 + bit).toBe(m & 0x1fff)
      })
    )
  })
})

describe('msrBitmapFieldId', () => {
  it('uses class MSR_BITMAPS_1 (37 = 0x25) for VTL0 and _2 (45 = 0x2D) for VTL1, 64-bit', () => {
    expect(msrBitmapFieldId(0, 0x82)).toBe(0x2520_0003_0000_0082n)
    expect(msrBitmapFieldId(1, 0x182)).toBe(0x2d20_0003_0000_0182n)
    expect(msrBitmapFieldId(0, 0)).toBe(0x2520_0003_0000_0000n)
    expect(msrBitmapFieldId(1, 511)).toBe(0x2d20_0003_0000_01ffn)
  })

  it('rejects words outside the page and VTL2', () => {
    expect(MSR_BITMAP_WORDS).toBe(512)
    expect(() => msrBitmapFieldId(0, 512)).toThrow(code('E_FIELD_RANGE'))
    expect(() => msrBitmapFieldId(0, -1)).toThrow(code('E_FIELD_RANGE'))
    expect(() => msrBitmapFieldId(2 as 0, 0)).toThrow(code('E_FIELD_RANGE'))
  })
})

describe('msrBitmapWrite', () => {
  it('clears VTL0’s EFER read intercept with a one-bit mask', () => {
    expect(msrBitmapWrite(0, 0xc000_0080, false, false)).toEqual({
      fieldId: 0x2520_0003_0000_0082n,
      value: 0n,
      mask: 1n,
    })
  })

  it('sets VTL1’s TSC write intercept', () => {
    expect(msrBitmapWrite(1, 0x10, true, true)).toEqual({
      fieldId: 0x2d20_0003_0000_0100n,
      value: 0x1_0000n,
      mask: 0x1_0000n,
    })
  })

  it('sets bit 63 of a word as an unsigned value', () => {
    expect(msrBitmapWrite(0, 0xc000_1fff, true, true).value).toBe(0x8000_0000_0000_0000n)
  })
})
