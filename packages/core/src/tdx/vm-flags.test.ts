import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  TdxInvdTranslations,
  decodeTdxGlaVmAndFlags,
  decodeTdxL2Ctls,
  decodeTdxVmFlags,
  encodeTdxGlaVmAndFlags,
  encodeTdxL2Ctls,
  encodeTdxVmFlags,
  type L2VmIndex,
  type TdxInvdTranslations as Invd,
} from './vm-flags.js'

const code = (c: string): Error => expect.objectContaining({ code: c }) as Error
const vmIndex = fc.constantFrom<L2VmIndex>(1, 2, 3)

describe('TdxVmFlags (TDG.VP.ENTER RCX)', () => {
  it('names the invalidation types 0–3', () => {
    expect(TdxInvdTranslations).toEqual({
      NONE: 0,
      INVEPT: 1,
      INVVPID: 2,
      INVVPID_NON_GLOBAL: 3,
    })
  })

  it.each([
    [1, 1, 0x0010_0000_0000_0001n], // VTL0's first entry: INVEPT
    [0, 1, 0x0010_0000_0000_0000n],
    [0, 2, 0x0020_0000_0000_0000n], // VTL1
    [2, 2, 0x0020_0000_0000_0002n],
    [3, 3, 0x0030_0000_0000_0003n],
  ] as const)('invd %i, VM %i ↔ %s', (invd, vm, rcx) => {
    expect(encodeTdxVmFlags({ invdTranslations: invd, vmIndex: vm })).toBe(rcx)
    expect(decodeTdxVmFlags(rcx)).toEqual({ invdTranslations: invd, vmIndex: vm })
  })

  it.each([
    ['bit 2', 0x0010_0000_0000_0004n],
    ['bit 51', 0x0018_0000_0000_0000n],
    ['bit 54', 0x0050_0000_0000_0000n],
    ['bit 63', 0x8010_0000_0000_0000n],
  ])('rejects reserved %s', (_label, rcx) => {
    expect(() => decodeTdxVmFlags(rcx)).toThrow(code('E_RESERVED_BITS'))
  })

  it('rejects VM index 0 (L1) on decode and out-of-range values on encode', () => {
    expect(() => decodeTdxVmFlags(0x1n)).toThrow(code('E_FIELD_RANGE'))
    expect(() => encodeTdxVmFlags({ invdTranslations: 0, vmIndex: 0 as 1 })).toThrow(
      code('E_FIELD_RANGE')
    )
    expect(() => encodeTdxVmFlags({ invdTranslations: 0, vmIndex: 4 as 1 })).toThrow(
      code('E_FIELD_RANGE')
    )
    expect(() => encodeTdxVmFlags({ invdTranslations: 4 as 0, vmIndex: 1 })).toThrow(
      code('E_FIELD_RANGE')
    )
  })

  it('round-trips', () => {
    fc.assert(
      fc.property(fc.constantFrom<Invd>(0, 1, 2, 3), vmIndex, (invd, vm) => {
        const flags = { invdTranslations: invd, vmIndex: vm }
        expect(decodeTdxVmFlags(encodeTdxVmFlags(flags))).toEqual(flags)
      })
    )
  })
})

describe('TdxL2Ctls', () => {
  it.each([
    [false, false, 0n],
    [true, false, 1n],
    [false, true, 2n],
    [true, true, 3n],
  ])('shared EPT %s, TDVMCALL %s ↔ %s', (enableSharedEpt, enableTdvmcall, value) => {
    expect(encodeTdxL2Ctls({ enableSharedEpt, enableTdvmcall })).toBe(value)
    expect(decodeTdxL2Ctls(value)).toEqual({ enableSharedEpt, enableTdvmcall })
  })

  it('rejects reserved bits 63:2', () => {
    expect(() => decodeTdxL2Ctls(4n)).toThrow(code('E_RESERVED_BITS'))
    expect(() => decodeTdxL2Ctls(0x8000_0000_0000_0001n)).toThrow(code('E_RESERVED_BITS'))
    expect(() => decodeTdxL2Ctls(-1n)).toThrow(code('E_FIELD_RANGE'))
  })
})

describe('TdxGlaVmAndFlags (TDG.VP.INVGLA RCX)', () => {
  it.each([
    [false, 1, 0x0010_0000_0000_0000n],
    [true, 1, 0x0010_0000_0000_0001n],
    [true, 2, 0x0020_0000_0000_0001n],
    [false, 3, 0x0030_0000_0000_0000n],
  ] as const)('list %s, VM %i ↔ %s', (list, vm, rcx) => {
    expect(encodeTdxGlaVmAndFlags({ list, vmIndex: vm })).toBe(rcx)
    expect(decodeTdxGlaVmAndFlags(rcx)).toEqual({ list, vmIndex: vm })
  })

  it('rejects reserved bits and VM index 0', () => {
    expect(() => decodeTdxGlaVmAndFlags(0x0010_0000_0000_0002n)).toThrow(code('E_RESERVED_BITS'))
    expect(() => decodeTdxGlaVmAndFlags(0x0410_0000_0000_0000n)).toThrow(code('E_RESERVED_BITS'))
    expect(() => decodeTdxGlaVmAndFlags(0x1n)).toThrow(code('E_FIELD_RANGE'))
    expect(() => encodeTdxGlaVmAndFlags({ list: false, vmIndex: 0 as 1 })).toThrow(
      code('E_FIELD_RANGE')
    )
  })

  it('round-trips', () => {
    fc.assert(
      fc.property(fc.boolean(), vmIndex, (list, vm) => {
        expect(decodeTdxGlaVmAndFlags(encodeTdxGlaVmAndFlags({ list, vmIndex: vm }))).toEqual({
          list,
          vmIndex: vm,
        })
      })
    )
  })
})
