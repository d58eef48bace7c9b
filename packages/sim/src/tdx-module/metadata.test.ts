import { describe, expect, it } from 'vitest'
import {
  TDCS_CONFIG_FLAGS,
  TDCS_CONFIG_FLAGS_ARCH,
  TDCS_TD_CTLS,
  TDVPS_L2_CTLS_VM1,
  TDVPS_L2_CTLS_VM2,
  TDX_FEATURES0,
  VmcsField,
  msrBitmapFieldId,
  tdgSysRd,
  tdgVmRd,
  tdgVmWr,
  tdgVpRd,
  tdgVpWr,
  vmcsFieldCode,
} from '@vtl/core'
import { SoftwareTdxModule } from './software-tdx-module.js'

const td = () =>
  new SoftwareTdxModule({ vps: 4, gpaWidth: 52, tdxFeatures0: 0x1000n, tdCtls: 0x2n })

const CR0_VTL1 = vmcsFieldCode(1, VmcsField.GUEST_CR0)
const SECONDARY_VTL0 = vmcsFieldCode(0, VmcsField.SECONDARY_PROCESSOR_CONTROLS)
const SELECTOR_VTL1 = vmcsFieldCode(1, VmcsField.GUEST_CS_SELECTOR)
const NUM_L2_VMS = 0x9010_0001_0000_0005n
/** VM_EXIT_REASON (0x4402), 32-bit, VMCS_1: exit information is read-only. */
const EXIT_REASON_VTL0 = 0x2420_0002_0000_4402n

describe('TDG.VP.RD / TDG.VP.WR', () => {
  it.each([
    ['VMCS_2 GUEST_CR0 reset value PE|NE', CR0_VTL1, 0x21n],
    ['VMCS_1 SECONDARY_PROCESSOR_CONTROLS', SECONDARY_VTL0, 0n],
    ['L2_CTLS VM1', TDVPS_L2_CTLS_VM1, 0n],
    ['MSR bitmap word: intercept all', msrBitmapFieldId(1, 3), 0xffff_ffff_ffff_ffffn],
  ])('reads %s', (_name, id, value) => {
    const o = td().tdcall(1, tdgVpRd(id))
    expect([o.rax, o.r8]).toEqual([0n, value])
  })

  it('writes with a mask: new = (old & ~mask) | (value & mask), R8 = old value', () => {
    const m = td()
    expect(m.tdcall(2, tdgVpWr(CR0_VTL1, 0x8000_0000n, 0x8000_0000n)).r8).toBe(0x21n)
    const second = m.tdcall(2, tdgVpWr(CR0_VTL1, 0xffff_ffffn, 0x0000_0030n))
    expect([second.rax, second.r8]).toEqual([0n, 0x8000_0021n])
    expect(m.vmcsRead(2, 2, VmcsField.GUEST_CR0)).toBe(0x8000_0031n)
    // Other VPs and the other VM keep their own copies.
    expect(m.vmcsRead(1, 2, VmcsField.GUEST_CR0)).toBe(0x21n)
    expect(m.vmcsRead(2, 1, VmcsField.GUEST_CR0)).toBe(0x21n)
  })

  it.each([
    ['an unknown VMCS encoding', 0x2c20_0003_0000_6c00n, 0xc000_0c00_0000_0002n],
    ['a size that disagrees with the VMX width', 0x2c20_0002_0000_6800n, 0xc000_0c00_0000_0002n],
    ['reserved bits in the field id', CR0_VTL1 | (1n << 24n), 0xc000_0c00_0000_0002n],
    ['a TD-scope id', TDCS_TD_CTLS, 0xc000_0c00_0000_0002n],
    ['VMCS_3 with NUM_L2_VMS = 2', 0x3420_0003_0000_6800n, 0xc000_0c00_0000_0002n],
    ['L2_CTLS of VM3 with NUM_L2_VMS = 2', 0xa020_0003_0000_0053n, 0xc000_0c00_0000_0002n],
  ])('RD of %s', (_name, id, rax) => {
    expect(td().tdcall(0, tdgVpRd(id)).rax).toBe(rax)
  })

  it.each([
    ['unknown field', 0x2c20_0003_0000_6c00n, 1n, 1n, 0xc000_0c00_0000_0002n],
    ['read-only exit information', EXIT_REASON_VTL0, 1n, 1n, 0xc000_0c01_0000_0002n],
    ['a zero mask', CR0_VTL1, 1n, 0n, 0xc000_0c01_0000_0002n],
    [
      'value bits beyond a 16-bit field',
      SELECTOR_VTL1,
      0x1_0008n,
      0x1_ffffn,
      0xc000_0c03_0000_0008n,
    ],
    [
      'L2_CTLS reserved bit 2',
      TDVPS_L2_CTLS_VM2,
      4n,
      0xffff_ffff_ffff_ffffn,
      0xc000_0c03_0000_0008n,
    ],
  ])('WR of %s: the status, and nothing changes', (_name, id, value, mask, rax) => {
    const m = td()
    const before = m.toJSON()
    expect(m.tdcall(0, tdgVpWr(id, value, mask)).rax).toBe(rax)
    expect(m.toJSON()).toEqual(before)
  })

  it.each([
    // A mask wider than the field is fine when the value leaves the extra bits 0 (the module
    // only refuses changes to bits it does not let the guest write).
    [
      'a 16-bit selector with an all-ones mask',
      SELECTOR_VTL1,
      0x10n,
      0xffff_ffff_ffff_ffffn,
      0x10n,
    ],
    [
      'a 32-bit control with an all-ones mask',
      SECONDARY_VTL0,
      0x40_0000n,
      0xffff_ffff_ffff_ffffn,
      0x40_0000n,
    ],
    ['L2_CTLS with an all-ones mask', TDVPS_L2_CTLS_VM2, 2n, 0xffff_ffff_ffff_ffffn, 2n],
    ['a 16-bit selector, mask over the low byte only', SELECTOR_VTL1, 0xffffn, 0xffn, 0xffn],
  ])('WR of %s', (_name, id, value, mask, after) => {
    const m = td()
    const o = m.tdcall(3, tdgVpWr(id, value, mask))
    expect([o.rax, o.r8]).toEqual([0n, 0n])
    expect(m.tdcall(3, tdgVpRd(id)).r8).toBe(after)
  })

  it('L2_CTLS bit 0 turns on the shared EPT for that VM only, per VP', () => {
    const m = td()
    expect(m.tdcall(0, tdgVpWr(TDVPS_L2_CTLS_VM1, 3n, 0xffff_ffff_ffff_ffffn)).rax).toBe(0n)
    expect(m.tdcall(0, tdgVpRd(TDVPS_L2_CTLS_VM1)).r8 & 1n).toBe(1n)
    expect(m.tdcall(0, tdgVpRd(TDVPS_L2_CTLS_VM2)).r8 & 1n).toBe(0n)
    expect(m.tdcall(1, tdgVpRd(TDVPS_L2_CTLS_VM1)).r8 & 1n).toBe(0n)
  })
})

describe('TDG.VM.RD / TDG.VM.WR / TDG.SYS.RD', () => {
  it.each([
    ['CONFIG_FLAGS (openvmm id): GPAW = 1 for 52 bits', TDCS_CONFIG_FLAGS, 0n, 0x1n],
    ['CONFIG_FLAGS (Linux id)', TDCS_CONFIG_FLAGS_ARCH, 0n, 0x1n],
    ['TD_CTLS', TDCS_TD_CTLS, 0n, 0x2n],
    ['NUM_L2_VMS', NUM_L2_VMS, 0n, 0x2n],
    ['a VP-scope id', TDVPS_L2_CTLS_VM1, 0xc000_0c00_0000_0002n, 0n],
  ])('VM.RD %s', (_name, id, rax, r8) => {
    const o = td().tdcall(0, tdgVmRd(id))
    expect([o.rax, o.r8]).toEqual([rax, r8])
  })

  it.each([
    ['TD_CTLS ENABLE_HW_SEAL_KEYS', TDCS_TD_CTLS, 0x10n, 0x10n, 0n, 0x12n],
    [
      'TD_CTLS LOCK alone: no writable bit in the mask',
      TDCS_TD_CTLS,
      1n << 63n,
      1n << 63n,
      0xc000_0c01_0000_0002n,
      0x2n,
    ],
    [
      'TD_CTLS LOCK with a writable bit: changing LOCK is refused',
      TDCS_TD_CTLS,
      (1n << 63n) | 0x10n,
      (1n << 63n) | 0x10n,
      0xc000_0c03_0000_0008n,
      0x2n,
    ],
    ['CONFIG_FLAGS is read-only', TDCS_CONFIG_FLAGS, 1n, 1n, 0xc000_0c01_0000_0002n, 0x2n],
    ['NUM_L2_VMS is read-only', NUM_L2_VMS, 3n, 0xffffn, 0xc000_0c01_0000_0002n, 0x2n],
  ])('VM.WR %s', (_name, id, value, mask, rax, tdCtlsAfter) => {
    const m = td()
    const o = m.tdcall(0, tdgVmWr(id, value, mask))
    expect(o.rax).toBe(rax)
    if (rax === 0n) expect(o.r8).toBe(0x2n)
    expect(m.tdcall(0, tdgVmRd(TDCS_TD_CTLS)).r8).toBe(tdCtlsAfter)
  })

  it.each([
    ['TDX_FEATURES0', TDX_FEATURES0, 0n, 0x1000n],
    ['anything else', TDCS_TD_CTLS, 0xc000_0c00_0000_0002n, 0n],
  ])('SYS.RD %s', (_name, id, rax, r8) => {
    const o = td().tdcall(3, tdgSysRd(id))
    expect([o.rax, o.r8]).toEqual([rax, r8])
  })
})
