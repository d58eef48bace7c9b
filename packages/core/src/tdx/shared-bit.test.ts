import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  assertGpaWidth,
  classifyGpa,
  sharedBit,
  sharedBitIndex,
  type GpaWidth,
} from './shared-bit.js'

const code = (c: string): Error => expect.objectContaining({ code: c }) as Error

describe('shared bit', () => {
  it('is bit 47 for GPAW 48 and bit 51 for GPAW 52', () => {
    expect(sharedBitIndex(48)).toBe(47)
    expect(sharedBitIndex(52)).toBe(51)
    expect(sharedBit(48)).toBe(0x0000_8000_0000_0000n)
    expect(sharedBit(52)).toBe(0x0008_0000_0000_0000n)
  })

  it.each([
    [0x8000_0000_1000n, 48, 0x1000n, true],
    [0x1000n, 48, 0x1000n, false],
    [0x7fff_ffff_f000n, 48, 0x7fff_ffff_f000n, false],
    [0xffff_ffff_f000n, 48, 0x7fff_ffff_f000n, true],
    [0x8_0000_0000_1000n, 52, 0x1000n, true],
    [0x8000_0000_1000n, 52, 0x8000_0000_1000n, false],
  ] as const)('%s with width %i → canonical %s, shared %s', (gpa, width, canonical, shared) => {
    expect(classifyGpa(gpa, width)).toEqual({ canonical, shared })
  })

  it('rejects addresses at or above 2^width', () => {
    expect(() => classifyGpa(0x1_0000_0000_0000n, 48)).toThrow(code('E_BEYOND_GPA_WIDTH'))
    expect(() => classifyGpa(0x10_0000_0000_0000n, 52)).toThrow(code('E_BEYOND_GPA_WIDTH'))
    expect(() => classifyGpa(-1n, 48)).toThrow(code('E_BEYOND_GPA_WIDTH'))
  })

  it('accepts only widths 48 and 52', () => {
    expect(() => {
      assertGpaWidth(48)
    }).not.toThrow()
    expect(() => {
      assertGpaWidth(52)
    }).not.toThrow()
    for (const width of [0, 47, 49, 51, 57, 64]) {
      expect(() => {
        assertGpaWidth(width)
      }).toThrow(code('E_FIELD_RANGE'))
    }
  })

  it('canonical plus the shared bit gives the address back', () => {
    const input = fc
      .constantFrom<GpaWidth>(48, 52)
      .chain((width) =>
        fc.tuple(fc.constant(width), fc.bigInt({ min: 0n, max: (1n << BigInt(width)) - 1n }))
      )
    fc.assert(
      fc.property(input, ([width, gpa]) => {
        const { canonical, shared } = classifyGpa(gpa, width)
        expect(canonical < sharedBit(width)).toBe(true)
        expect(canonical | (shared ? sharedBit(width) : 0n)).toBe(gpa)
      })
    )
  })
})
