import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { expectVtlError } from '../hv/testing/arbitraries.js'
import { validateVtlGpaFlags } from './gpa-flags.js'

/**
 * The rules of vsm-on-tdx.md §5.3 (with the TLFS reading of the shadow-stack clause), restated as
 * the set of *valid* masks rather than as reasons to refuse: a mask is valid when
 *  - it is empty, or
 *  - it is readable, not adjustable, its execute pair is an allowed one, and if it has SSS then
 *    shadow stacks are on and the execute pair is not empty.
 * Allowed execute pairs (KX, UX): (0,0) and (1,1) always, (0,1) only with MBEC.
 */
function oracle(flags: number, mbec: boolean, sss: boolean): boolean {
  const bit = (n: number): boolean => Math.floor(flags / 2 ** n) % 2 === 1
  const [r, w, kx, ux, ss, pw, vpw] = [bit(0), bit(1), bit(2), bit(3), bit(4), bit(5), bit(6)]
  const adjustable = bit(15)
  if (adjustable) return false
  const permissions = [w, kx, ux, ss, pw, vpw]
  if (!r) return permissions.every((p) => !p)
  const pair = `${kx ? 1 : 0}${ux ? 1 : 0}`
  const allowedPairs = mbec ? ['00', '11', '01'] : ['00', '11']
  if (!allowedPairs.includes(pair)) return false
  if (ss) return sss && pair !== '00'
  return true
}

describe('validateVtlGpaFlags', () => {
  it('equals the truth table over the low 8 bits × adjustable × MBEC × shadow stacks', () => {
    let checked = 0
    for (let low = 0; low < 256; low++) {
      for (const adjustable of [0, 0x8000]) {
        for (const mbec of [false, true]) {
          for (const sss of [false, true]) {
            const flags = low | adjustable
            expect(
              validateVtlGpaFlags(flags, mbec, sss),
              `flags 0x${flags.toString(16)} mbec ${mbec} sss ${sss}`
            ).toBe(oracle(flags, mbec, sss))
            checked++
          }
        }
      }
    }
    expect(checked).toBe(2048)
  })

  // Counted by hand over the 256 low-bit values (bit 7 is padding, so every count is doubled):
  // MBEC off: R clear → only 0 (1); R set → W × {KX=UX} × PW × VPW = 2·2·2·2 = 16 → 17·2 = 34.
  // MBEC on: three execute pairs → 1 + 2·3·2·2 = 25 → 50.
  // Shadow stacks on add the SSS masks with a non-empty execute pair: +8 (MBEC off), +16 (on).
  it.each([
    [false, false, 34],
    [true, false, 50],
    [false, true, 50],
    [true, true, 82],
  ])('mbec %s, sss %s: %i valid low-byte masks', (mbec, sss, count) => {
    let valid = 0
    for (let low = 0; low < 256; low++) if (validateVtlGpaFlags(low, mbec, sss)) valid++
    expect(valid).toBe(count)
  })

  it.each([
    [0x0, false, true, 'no access'],
    [0xf, false, true, 'ALL'],
    [0x3, false, true, 'R W'],
    [0x1, false, true, 'R'],
    [0x2, false, false, 'W without R'],
    [0x5, false, false, 'R KX without UX, MBEC off'],
    [0x5, true, false, 'R KX without UX, MBEC on: never valid'],
    [0x9, false, false, 'R UX without KX, MBEC off'],
    [0x9, true, true, 'R UX without KX, MBEC on'],
    [0xd, false, true, 'R KX UX'],
    [0x8001, false, false, 'adjustable'],
    [0x21, false, true, 'R + paging writability'],
    [0x20, false, false, 'paging writability without R'],
    [0x41, false, true, 'R + verify paging writability'],
  ])('0x%s (mbec %s) → %s: %s', (flags, mbec, valid) => {
    expect(validateVtlGpaFlags(flags, mbec, false)).toBe(valid)
  })

  it('refuses SSS whenever shadow stacks are off, which is always the case on a CVM', () => {
    for (let low = 0; low < 256; low++) {
      if ((low & 0x10) === 0) continue
      expect(validateVtlGpaFlags(low, false, false)).toBe(false)
      expect(validateVtlGpaFlags(low, true, false)).toBe(false)
    }
    // With shadow stacks on, SSS needs R and an execute bit (TLFS meaning of §5.3 rule 4).
    expect(validateVtlGpaFlags(0x1d, false, true)).toBe(true)
    expect(validateVtlGpaFlags(0x11, false, true)).toBe(false)
    expect(validateVtlGpaFlags(0x19, true, true)).toBe(true)
  })

  it('ignores the padding bits 14:7 and 31:16', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0x7f }),
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.boolean(),
        fc.boolean(),
        (low, noise, mbec, sss) => {
          const padding = (noise & 0xffff7f80) >>> 0
          expect(validateVtlGpaFlags((low | padding) >>> 0, mbec, sss)).toBe(
            validateVtlGpaFlags(low, mbec, sss)
          )
        }
      )
    )
  })

  it('refuses a value that is not a u32 with a typed error', () => {
    expectVtlError(() => validateVtlGpaFlags(-1, false, false), 'E_FIELD_RANGE', 'flags')
    expectVtlError(() => validateVtlGpaFlags(2 ** 32, false, false), 'E_FIELD_RANGE', 'flags')
    expectVtlError(() => validateVtlGpaFlags(0.5, false, false), 'E_FIELD_RANGE', 'flags')
  })
})
