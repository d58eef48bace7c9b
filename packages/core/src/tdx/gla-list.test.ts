import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeTdxGlaEntry,
  decodeTdxGlaListInfo,
  encodeTdxGlaEntry,
  encodeTdxGlaListInfo,
} from './gla-list.js'

const code = (c: string): Error => expect.objectContaining({ code: c }) as Error

describe('TdxGlaEntry', () => {
  it.each([
    [0x7_ffff_ffffn, 3, 0x7fff_ffff_f003n],
    [0x10n, 0, 0x1_0000n],
    [0xf_ffff_ffff_ffffn, 0xfff, 0xffff_ffff_ffff_ffffn],
  ])('page %s, last index %i ↔ %s', (baseGlaPage, lastIndex, rdx) => {
    expect(encodeTdxGlaEntry({ baseGlaPage, lastIndex })).toBe(rdx)
    expect(decodeTdxGlaEntry(rdx)).toEqual({ baseGlaPage, lastIndex })
  })

  it('rejects out-of-range fields', () => {
    expect(() => encodeTdxGlaEntry({ baseGlaPage: 1n << 52n, lastIndex: 0 })).toThrow(
      code('E_FIELD_RANGE')
    )
    expect(() => encodeTdxGlaEntry({ baseGlaPage: 0n, lastIndex: 0x1000 })).toThrow(
      code('E_FIELD_RANGE')
    )
  })

  it('round-trips', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 52n) - 1n }),
        fc.nat({ max: 0xfff }),
        (baseGlaPage, lastIndex) => {
          const entry = { baseGlaPage, lastIndex }
          expect(decodeTdxGlaEntry(encodeTdxGlaEntry(entry))).toEqual(entry)
        }
      )
    )
  })
})

describe('TdxGlaListInfo', () => {
  it('packs first entry 8:0, list GPN 51:12, count 61:52', () => {
    const info = { firstEntry: 5, listGpn: 0x1234n, numEntries: 10 }
    expect(encodeTdxGlaListInfo(info)).toBe(0x00a0_0000_0123_4005n)
    expect(decodeTdxGlaListInfo(0x00a0_0000_0123_4005n)).toEqual(info)
    expect(
      encodeTdxGlaListInfo({ firstEntry: 0x1ff, listGpn: (1n << 40n) - 1n, numEntries: 0x3ff })
    ).toBe(0x3fff_ffff_ffff_f1ffn)
  })

  it('rejects reserved bits 11:9 and 63:62', () => {
    expect(() => decodeTdxGlaListInfo(0x200n)).toThrow(code('E_RESERVED_BITS'))
    expect(() => decodeTdxGlaListInfo(0x4000_0000_0000_0000n)).toThrow(code('E_RESERVED_BITS'))
  })

  it('rejects out-of-range fields', () => {
    expect(() => encodeTdxGlaListInfo({ firstEntry: 0x200, listGpn: 0n, numEntries: 0 })).toThrow(
      code('E_FIELD_RANGE')
    )
    expect(() =>
      encodeTdxGlaListInfo({ firstEntry: 0, listGpn: 1n << 40n, numEntries: 0 })
    ).toThrow(code('E_FIELD_RANGE'))
    expect(() => encodeTdxGlaListInfo({ firstEntry: 0, listGpn: 0n, numEntries: 0x400 })).toThrow(
      code('E_FIELD_RANGE')
    )
  })

  it('round-trips', () => {
    const info = fc.record({
      firstEntry: fc.nat({ max: 0x1ff }),
      listGpn: fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }),
      numEntries: fc.nat({ max: 0x3ff }),
    })
    fc.assert(
      fc.property(info, (i) => {
        expect(decodeTdxGlaListInfo(encodeTdxGlaListInfo(i))).toEqual(i)
      })
    )
  })
})
