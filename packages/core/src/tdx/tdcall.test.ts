import { describe, expect, it } from 'vitest'
import { TDCS_CONFIG_FLAGS, TDX_FEATURES0 } from './metadata-field.js'
import { attrWriteOperands } from './page-attr.js'
import {
  tdgMemPageAccept,
  tdgMemPageAttrRd,
  tdgMemPageAttrWr,
  tdgMemPageRelease,
  tdgSysRd,
  tdgVmRd,
  tdgVmWr,
  tdgVpEnter,
  tdgVpInvept,
  tdgVpInvgla,
  tdgVpRd,
  tdgVpWr,
  type TdcallInput,
} from './tdcall.js'

const code = (c: string): Error => expect.objectContaining({ code: c }) as Error
const U64_MAX = 0xffff_ffff_ffff_ffffn

function regs(leaf: number, rcx = 0n, rdx = 0n, r8 = 0n, r9 = 0n): TdcallInput {
  return { leaf, rcx, rdx, r8, r9 }
}

describe('TDCALL builders', () => {
  it('TDG.MEM.PAGE.ACCEPT (6): RCX = level | GPN', () => {
    expect(tdgMemPageAccept({ level: 1, gpn: 0x200n })).toEqual(regs(6, 0x20_0001n))
    expect(tdgMemPageAccept({ level: 0, gpn: 0x1234n })).toEqual(regs(6, 0x123_4000n))
  })

  it('TDG.MEM.PAGE.RELEASE (30)', () => {
    expect(tdgMemPageRelease({ level: 2, gpn: 0x4_0000n })).toEqual(regs(30, 0x4000_0002n))
  })

  it('TDG.MEM.PAGE.ATTR.RD (23): RCX = page-aligned GPA below 2^52', () => {
    expect(tdgMemPageAttrRd(0x1234_5000n)).toEqual(regs(23, 0x1234_5000n))
    expect(() => tdgMemPageAttrRd(0x1234_5008n)).toThrow(code('E_RESERVED_BITS'))
    expect(() => tdgMemPageAttrRd(1n << 52n)).toThrow(code('E_RESERVED_BITS'))
    expect(() => tdgMemPageAttrRd(-4096n)).toThrow(code('E_FIELD_RANGE'))
  })

  it('TDG.MEM.PAGE.ATTR.WR (24): VTL1 ALL as OpenHCL issues it', () => {
    const { rdx, r8 } = attrWriteOperands(1, 0xf)
    expect(tdgMemPageAttrWr({ level: 1, gpn: 0x200n }, rdx, r8)).toEqual(
      regs(24, 0x20_0001n, 0x0000_800f_0000_0000n, 0x0000_000f_0000_0000n)
    )
  })

  it('TDG.MEM.PAGE.ATTR.WR refuses a non-zero L1 slot in attributes or mask', () => {
    expect(() => tdgMemPageAttrWr({ level: 0, gpn: 0n }, 0x800fn, 0n)).toThrow(
      code('E_RESERVED_BITS')
    )
    expect(() => tdgMemPageAttrWr({ level: 0, gpn: 0n }, 0n, 0x1n)).toThrow(code('E_RESERVED_BITS'))
  })

  it('TDG.VP.RD (9) / TDG.VP.WR (10): RDX field, R8 value, R9 mask', () => {
    expect(tdgVpRd(0x2c20_0003_0000_2012n)).toEqual(regs(9, 0n, 0x2c20_0003_0000_2012n))
    expect(tdgVpWr(0x2c20_0003_0000_2012n, 0x1_2345_6000n, U64_MAX)).toEqual(
      regs(10, 0n, 0x2c20_0003_0000_2012n, 0x1_2345_6000n, U64_MAX)
    )
    expect(() => tdgVpWr(0n, -1n, 0n)).toThrow(code('E_FIELD_RANGE'))
    expect(() => tdgVpWr(0n, 0n, 1n << 64n)).toThrow(code('E_FIELD_RANGE'))
  })

  it('TDG.VM.RD (7) / TDG.VM.WR (8) / TDG.SYS.RD (11)', () => {
    expect(tdgVmRd(TDCS_CONFIG_FLAGS)).toEqual(regs(7, 0n, 0x9110_0003_0000_0016n))
    expect(tdgVmWr(0x1110_0003_0000_0017n, 0x10n, 0x10n)).toEqual(
      regs(8, 0n, 0x1110_0003_0000_0017n, 0x10n, 0x10n)
    )
    expect(tdgSysRd(TDX_FEATURES0)).toEqual(regs(11, 0n, 0x0a00_0003_0000_0008n))
  })

  it('TDG.VP.ENTER (25): RCX = VM flags, RDX = 256-byte-aligned guest-state GPA', () => {
    expect(tdgVpEnter({ invdTranslations: 1, vmIndex: 2 }, 0x7_f000n)).toEqual(
      regs(25, 0x0020_0000_0000_0001n, 0x7_f000n)
    )
    expect(tdgVpEnter({ invdTranslations: 0, vmIndex: 1 }, 0x7_f100n).rdx).toBe(0x7_f100n)
    expect(() => tdgVpEnter({ invdTranslations: 0, vmIndex: 1 }, 0x7_f010n)).toThrow(
      code('E_UNALIGNED')
    )
  })

  it('TDG.VP.INVEPT (26): RCX = bitmap of L2 VM indexes', () => {
    expect(tdgVpInvept([1, 2])).toEqual(regs(26, 0b110n))
    expect(tdgVpInvept([3])).toEqual(regs(26, 0b1000n))
    expect(() => tdgVpInvept([0 as 1])).toThrow(code('E_FIELD_RANGE'))
  })

  it('TDG.VP.INVGLA (27): one GLA entry or a list, matching the list flag', () => {
    expect(tdgVpInvgla({ list: false, vmIndex: 1 }, { baseGlaPage: 0x10n, lastIndex: 0 })).toEqual(
      regs(27, 0x0010_0000_0000_0000n, 0x1_0000n)
    )
    expect(
      tdgVpInvgla({ list: true, vmIndex: 2 }, { firstEntry: 0, listGpn: 0x99n, numEntries: 3 })
    ).toEqual(regs(27, 0x0020_0000_0000_0001n, 0x0030_0000_0009_9000n))
    expect(() =>
      tdgVpInvgla({ list: true, vmIndex: 1 }, { baseGlaPage: 0n, lastIndex: 0 })
    ).toThrow(code('E_INVALID_VALUE'))
    expect(() =>
      tdgVpInvgla({ list: false, vmIndex: 1 }, { firstEntry: 0, listGpn: 0n, numEntries: 1 })
    ).toThrow(code('E_INVALID_VALUE'))
  })

  it('never carries R10–R15: the kernel pass-through refuses them', () => {
    expect(Object.keys(tdgVpRd(0n)).sort()).toEqual(['leaf', 'r8', 'r9', 'rcx', 'rdx'])
  })
})
