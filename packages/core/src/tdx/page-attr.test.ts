import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { HvMapGpaFlags } from '../hv/map-gpa-flags.js'
import {
  GPA_VM_ATTR_FLAG_INVEPT,
  GPA_VM_ATTR_FULL_ACCESS,
  GPA_VM_ATTR_MASK_ALL_CHANGED,
  GUEST_L2_GPA_ATTR_MASK,
  GpaVmAttr,
  attrWriteOperands,
  decodeGpaAttr,
  encodeGpaAttr,
  mapGpaFlagsFromVmAttr,
  packAttrSlot,
  unpackAttrSlot,
  vmAttrFromMapGpaFlags,
  vmIndexForVtl,
  type AttrSlot,
} from './page-attr.js'

const code = (c: string): Error => expect.objectContaining({ code: c }) as Error

describe('per-VM attribute slot', () => {
  it('has the bits of abi.md §3.3', () => {
    expect(GpaVmAttr).toEqual({
      R: 0x1,
      W: 0x2,
      Xs: 0x4,
      Xu: 0x8,
      VGP: 0x10,
      PWA: 0x20,
      SSS: 0x40,
      SVE: 0x80,
      VALID: 0x8000,
    })
    expect(GUEST_L2_GPA_ATTR_MASK).toBe(0x807f)
    expect(GPA_VM_ATTR_FULL_ACCESS).toBe(0x800f)
    expect(GPA_VM_ATTR_MASK_ALL_CHANGED).toBe(0x000f)
    expect(GPA_VM_ATTR_FLAG_INVEPT).toBe(0x8000)
  })

  it.each([
    ['ALL (R W KX UX)', 0xf, 0x800f],
    ['none', 0x0, 0x8000],
    ['R', 0x1, 0x8001],
    ['R W', 0x3, 0x8003],
    ['R KX', 0x5, 0x8005],
    ['UX only', 0x8, 0x8008],
    ['ALL + SSS (dropped)', 0x1f, 0x800f],
    ['R + paging writability + verify (dropped)', 0x61, 0x8001],
    ['R + adjustable (dropped)', 0x8001, 0x8001],
  ])('HvMapGpaFlags %s → %i', (_label, flags, attr) => {
    expect(vmAttrFromMapGpaFlags(flags)).toBe(attr)
  })

  it.each([
    [0x800f, 0xf],
    [0x8005, 0x5],
    [0x8085, 0x5], // SVE is not a permission
    [0x000f, 0x0], // not VALID: no alias, no access
    [0x8000, 0x0],
  ])('slot %i → HvMapGpaFlags %i', (attr, flags) => {
    expect(mapGpaFlagsFromVmAttr(attr)).toBe(flags)
  })

  it('VTL n runs in L2 VM n + 1', () => {
    expect(vmIndexForVtl(0)).toBe(1)
    expect(vmIndexForVtl(1)).toBe(2)
  })
})

describe('ATTR.WR operands', () => {
  it('VTL0 R only → RDX 0x8001 in slot 1, R8 0xF in slot 1', () => {
    expect(attrWriteOperands(0, HvMapGpaFlags.Readable)).toEqual({
      rdx: 0x0000_0000_8001_0000n,
      r8: 0x0000_0000_000f_0000n,
    })
  })

  it('VTL1 ALL → RDX 0x800F in slot 2, R8 0xF in slot 2', () => {
    expect(attrWriteOperands(1, 0xf)).toEqual({
      rdx: 0x0000_800f_0000_0000n,
      r8: 0x0000_000f_0000_0000n,
    })
  })

  it('VTL0 none still sets VALID and masks all four permission bits (so they can be removed)', () => {
    expect(attrWriteOperands(0, 0)).toEqual({ rdx: 0x8000_0000n, r8: 0xf_0000n })
  })
})

describe('GPA_ATTR word', () => {
  it('packs four 16-bit slots, L1 lowest', () => {
    expect(encodeGpaAttr({ l1: 0, vm1: 0x800f, vm2: 0x8003, vm3: 0 })).toBe(0x0000_8003_800f_0000n)
    expect(decodeGpaAttr(0x1234_5678_9abc_def0n)).toEqual({
      l1: 0xdef0,
      vm1: 0x9abc,
      vm2: 0x5678,
      vm3: 0x1234,
    })
    expect(packAttrSlot(3, 0x8000)).toBe(0x8000_0000_0000_0000n)
    expect(unpackAttrSlot(0x8000_0000_0000_0000n, 3)).toBe(0x8000)
  })

  it.each([0x1_0000, -1, 1.5, Number.NaN])('rejects slot value %d', (value) => {
    expect(() => packAttrSlot(1, value)).toThrow(code('E_FIELD_RANGE'))
  })

  it('rejects words that are not u64', () => {
    expect(() => decodeGpaAttr(-1n)).toThrow(code('E_FIELD_RANGE'))
    expect(() => decodeGpaAttr(1n << 64n)).toThrow(code('E_FIELD_RANGE'))
  })

  it('round-trips slots and words', () => {
    const slot = fc.nat({ max: 0xffff })
    fc.assert(
      fc.property(fc.record({ l1: slot, vm1: slot, vm2: slot, vm3: slot }), (attr) => {
        expect(decodeGpaAttr(encodeGpaAttr(attr))).toEqual(attr)
      })
    )
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }), (word) => {
        expect(encodeGpaAttr(decodeGpaAttr(word))).toBe(word)
      })
    )
    fc.assert(
      fc.property(fc.constantFrom<AttrSlot>(0, 1, 2, 3), slot, (s, v) => {
        expect(unpackAttrSlot(packAttrSlot(s, v), s)).toBe(v)
      })
    )
  })

  it('flags → slot → flags keeps R/W/KX/UX', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffff_ffff }), (flags) => {
        expect(mapGpaFlagsFromVmAttr(vmAttrFromMapGpaFlags(flags))).toBe(flags & 0xf)
      })
    )
  })
})
