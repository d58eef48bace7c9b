import { describe, expect, it } from 'vitest'
import {
  VmcsField,
  tdgMemPageAccept,
  tdgMemPageRelease,
  tdgVpEnter,
  tdgVpInvept,
  tdgVpInvgla,
  tdgVpWr,
  vmcsFieldCode,
  type L2VmIndex,
  type TdxVmFlags,
} from '@vtl/core'
import { SoftwareTdxModule } from './software-tdx-module.js'
import type { VpEnterExit } from './types.js'

const raw = (leaf: number, rcx: bigint, rdx = 0n) => ({ leaf, rcx, rdx, r8: 0n, r9: 0n })
const ALL = 0xffff_ffff_ffff_ffffn

/** Both L2 VMs of VP 1 have a virtual-APIC page registered. */
function td(exit: VpEnterExit = { exitReason: 18 }) {
  const seen: [number, L2VmIndex, TdxVmFlags, bigint][] = []
  const m = new SoftwareTdxModule({
    vps: 2,
    ram: [{ gpn: 0, pages: 1024 }],
    onEnter: (vp, vm, flags, gpa) => {
      seen.push([vp, vm, flags, gpa])
      return exit
    },
  })
  m.tdcall(1, tdgVpWr(vmcsFieldCode(0, VmcsField.VIRTUAL_APIC_PAGE), 0x5000n, ALL))
  m.tdcall(1, tdgVpWr(vmcsFieldCode(1, VmcsField.VIRTUAL_APIC_PAGE), 0x6000n, ALL))
  return { m, seen }
}

describe('TDG.VP.ENTER', () => {
  it('hands the entry to onEnter and returns its exit in the TDG.VP.ENTER registers', () => {
    const { m, seen } = td({
      exitReason: 48,
      exitQualification: 0x181n,
      gla: 0x7fff_0000n,
      gpa: 0x1234_5000n,
      interruptionInfo: 0x8000_0b0en,
      idtVectoringInfo: 0x2n,
      instructionInfo: 0x3_0000_0000n,
    })
    const o = m.tdcall(1, tdgVpEnter({ vmIndex: 2, invdTranslations: 1 }, 0x3000n))
    expect(o).toEqual({
      rax: 0x0000_0000_0000_0030n,
      rcx: 0x181n,
      rdx: 0x7fff_0000n,
      r8: 0x1234_5000n,
      r9: 0x8000_0b0en,
      r10: 0x2n,
      r11: 0x3_0000_0000n,
    })
    expect(seen).toEqual([[1, 2, { vmIndex: 2, invdTranslations: 1 }, 0x3000n]])
    expect(m.entries(1)).toEqual({
      count: 1,
      last: { vmIndex: 2, flags: { vmIndex: 2, invdTranslations: 1 }, guestStateGpa: 0x3000n },
    })
    // invd_translations = INVEPT flushes that VM.
    expect(m.invept).toEqual([0, 0, 1, 0])
  })

  it('carries a TDX status from the guest runner in RAX[63:32]', () => {
    const { m } = td({ exitReason: 1, tdxStatus: 0x1102 })
    expect(m.tdcall(1, tdgVpEnter({ vmIndex: 1, invdTranslations: 0 }, 0x3100n)).rax).toBe(
      0x0000_1102_0000_0001n
    )
  })

  it.each([
    ['VM index 0 (L1)', 0n, 0x3000n, 0xc000_0100_0000_0001n],
    ['VM index 3 with NUM_L2_VMS = 2', 3n << 52n, 0x3000n, 0xc000_0100_0000_0001n],
    ['reserved RCX bit 2', (1n << 52n) | 4n, 0x3000n, 0xc000_0100_0000_0001n],
    ['guest state GPA not 256-byte aligned', 1n << 52n, 0x3080n + 8n, 0xc000_0100_0000_0002n],
    ['guest state GPA shared', 1n << 52n, 1n << 47n, 0xc000_0100_0000_0002n],
    ['bad RDX and bad RCX: RDX is checked first', 0n, 0x3008n, 0xc000_0100_0000_0002n],
  ])('%s: refused, no entry', (_name, rcx, rdx, rax) => {
    const { m, seen } = td()
    expect(m.tdcall(1, raw(25, rcx, rdx)).rax).toBe(rax)
    expect(seen).toEqual([])
    expect(m.entries(1).count).toBe(0)
  })

  it('refuses a VM with no virtual-APIC page (VP 0 never registered one)', () => {
    const { m, seen } = td()
    expect(m.tdcall(0, tdgVpEnter({ vmIndex: 2, invdTranslations: 0 }, 0x3000n)).rax).toBe(
      0xc000_0100_0000_00aan // operand OPERAND_ID_L2_VAPIC_GPA (170)
    )
    expect(seen).toEqual([])
    const relaxed = new SoftwareTdxModule({ vps: 1, requireVirtualApicPage: false })
    expect(relaxed.tdcall(0, tdgVpEnter({ vmIndex: 2, invdTranslations: 0 }, 0x3000n)).rax).toBe(
      0x0000_0000_0000_000cn // the default runner exits with HLT (12)
    )
  })
})

describe('TDG.VP.INVEPT / TDG.VP.INVGLA', () => {
  it.each([
    ['VM1 and VM2', 0b110n, 0n, [0, 1, 1, 0]],
    ['bit 0 (L1)', 0b1n, 0xc000_0100_0000_0001n, [0, 0, 0, 0]],
    ['VM3 with NUM_L2_VMS = 2', 0b1000n, 0xc000_0100_0000_0001n, [0, 0, 0, 0]],
  ])('INVEPT %s', (_name, rcx, rax, counts) => {
    const { m } = td()
    expect(m.tdcall(0, raw(26, rcx)).rax).toBe(rax)
    expect(m.invept).toEqual(counts)
  })

  it('INVEPT through the core builder', () => {
    const { m } = td()
    expect(m.tdcall(0, tdgVpInvept([1])).rax).toBe(0n)
    expect(m.invept).toEqual([0, 1, 0, 0])
  })

  it.each([
    [
      'one GLA of VM1',
      tdgVpInvgla({ list: false, vmIndex: 1 }, { baseGlaPage: 0x7n, lastIndex: 0 }).rcx,
      0n,
      [0, 1, 0, 0],
    ],
    ['VM index 0', 0n, 0xc000_0100_0000_0001n, [0, 0, 0, 0]],
    ['reserved bit 1', (2n << 52n) | 2n, 0xc000_0100_0000_0001n, [0, 0, 0, 0]],
  ])('INVGLA %s', (_name, rcx, rax, counts) => {
    const { m } = td()
    expect(m.tdcall(0, raw(27, rcx, 0x7000n)).rax).toBe(rax)
    expect(m.invgla).toEqual(counts)
  })
})

describe('TDG.MEM.PAGE.RELEASE, TDG.VP.INFO and unknown leaves', () => {
  it.each([
    ['an accepted 2M leaf', { level: 1, gpn: 0x200n }, 0n, false],
    ['4K inside an accepted 2M leaf (demoted first)', { level: 0, gpn: 0x201n }, 0n, false],
    ['an unmapped page', { level: 0, gpn: 0x9000n }, 0xc000_0b00_0000_0001n, undefined],
  ] as const)('RELEASE of %s', (_name, operand, rax, acceptedAfter) => {
    const m = new SoftwareTdxModule({ vps: 1, pageRelease: true, ram: [{ gpn: 0, pages: 1024 }] })
    expect(m.tdcall(0, tdgMemPageRelease(operand)).rax).toBe(rax)
    if (acceptedAfter !== undefined) {
      expect(m.pageAttr(operand.gpn).accepted).toBe(acceptedAfter)
      expect(m.pageAttr(0x1ff).accepted).toBe(true)
    }
  })

  it('RELEASE of a pending page is TDX_EPT_ENTRY_STATE_INCORRECT; without PAGE_RELEASE the leaf is unknown', () => {
    const m = new SoftwareTdxModule({ vps: 1, pageRelease: true })
    m.hostAug(0, 1, 0)
    expect(m.tdcall(0, tdgMemPageRelease({ level: 0, gpn: 0n })).rax).toBe(0xc000_0b0d_0000_0001n)
    const off = new SoftwareTdxModule({ vps: 1, ram: [{ gpn: 0, pages: 1 }], ramLevel: 0 })
    expect(off.tdcall(0, tdgMemPageRelease({ level: 0, gpn: 0n })).rax).toBe(0xc000_0100_0000_0000n)
    expect(off.pageAttr(0).accepted).toBe(true)
  })

  it('released pages can be accepted again', () => {
    const m = new SoftwareTdxModule({
      vps: 1,
      pageRelease: true,
      ram: [{ gpn: 0, pages: 1 }],
      ramLevel: 0,
    })
    m.tdcall(0, tdgMemPageRelease({ level: 0, gpn: 0n }))
    expect(m.tdcall(0, tdgMemPageAccept({ level: 0, gpn: 0n })).rax).toBe(0n)
  })

  it('VP.INFO reports GPAW, the VP count and the VP index', () => {
    const o = new SoftwareTdxModule({ vps: 3 }).tdcall(2, raw(1, 0n))
    expect([o.rax, o.rcx, o.r8, o.r9]).toEqual([0n, 48n, 0x3_0000_0003n, 2n])
  })

  it.each([
    ['TDG.VP.VMCALL (host calls go through the plan sink)', 0],
    ['TDG.MR.REPORT', 4],
    ['an unassigned leaf', 13],
  ])('%s → TDX_OPERAND_INVALID on RAX', (_name, leaf) => {
    expect(new SoftwareTdxModule({ vps: 1 }).tdcall(0, raw(leaf, 0n)).rax).toBe(
      0xc000_0100_0000_0000n
    )
  })

  it('a VP outside the TD is a programming error, not a status', () => {
    expect(() => new SoftwareTdxModule({ vps: 2 }).tdcall(2, raw(1, 0n))).toThrow(/VP 2/)
  })
})
