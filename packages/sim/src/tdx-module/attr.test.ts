import { describe, expect, it } from 'vitest'
import { tdgMemPageAccept, tdgMemPageAttrRd, tdgMemPageAttrWr } from '@vtl/core'
import { SoftwareTdxModule } from './software-tdx-module.js'

const ATTR_WR = 24
const wr = (rcx: bigint, rdx: bigint, r8: bigint) => ({ leaf: ATTR_WR, rcx, rdx, r8, r9: 0n })

/** 4 MiB accepted at 2 MiB with VM1 = 0x800F (FULL_ACCESS) and VM2 = 0x8001 (R). */
function td(numL2Vms: 1 | 2 | 3 = 2): SoftwareTdxModule {
  return new SoftwareTdxModule({
    vps: 1,
    numL2Vms,
    ram: [{ gpn: 0, pages: 1024 }],
    ramAttr: { vm1: 0x800f, vm2: 0x8001 },
  })
}

describe('TDG.MEM.PAGE.ATTR.WR mask semantics per slot', () => {
  // [name, RDX, R8, expected RDX out, expected vm1, vm2]
  it.each([
    ['VM1 ← R only, mask R|W|Xs|Xu', 0x8001_0000n, 0x000f_0000n, 0x8001_8001_800fn, 0x8001, 0x8001],
    [
      'VM1 W cleared by mask W with value 0|VALID',
      0x8000_0000n,
      0x0002_0000n,
      0x8001_800d_800fn,
      0x800d,
      0x8001,
    ],
    [
      'VM1 value outside mask ignored',
      0x8003_0000n,
      0x0001_0000n,
      0x8001_800f_800fn,
      0x800f,
      0x8001,
    ],
    [
      'VM2 ← R|W|Xs|Xu, VM1 untouched (VALID 0)',
      0x800f_0000_0000n,
      0x000f_0000_0000n,
      0x800f_800f_800fn,
      0x800f,
      0x800f,
    ],
    ['both slots at once', 0x8005_8003_0000n, 0x000f_000f_0000n, 0x8005_8003_800fn, 0x8003, 0x8005],
    [
      'VM1 all access removed: alias removed, output VALID only',
      0x8000_0000n,
      0x000f_0000n,
      0x8001_8000_800fn,
      0,
      0x8001,
    ],
    [
      'empty mask: VALID alone changes nothing',
      0x8000_0000n,
      0n,
      0x8001_800f_800fn,
      0x800f,
      0x8001,
    ],
  ])('%s', (_name, rdx, r8, outRdx, vm1, vm2) => {
    const m = td()
    const o = m.tdcall(0, wr(0x1n, rdx, r8)) // level 1 (2 MiB) at GPN 0
    expect([o.rax, o.rcx, o.rdx]).toEqual([0n, 0x1n, outRdx])
    expect(m.pageAttr(0)).toMatchObject({ vm1, vm2 })
    expect(m.pageAttr(511)).toMatchObject({ vm1, vm2 })
    expect(m.pageAttr(512)).toMatchObject({ vm1: 0x800f, vm2: 0x8001 })
  })

  it('creates an alias on a slot that had none (VM3 with NUM_L2_VMS = 3)', () => {
    const m = td(3)
    const o = m.tdcall(0, wr(0x1n, 0x8003n << 48n, 0x000fn << 48n))
    expect([o.rax, o.rdx]).toEqual([0n, 0x8003_8001_800f_800fn])
    expect(m.pageAttr(7).vm3).toBe(0x8003)
  })
})

describe('TDG.MEM.PAGE.ATTR.WR statuses', () => {
  it.each([
    ['slot 0 (L1) of RDX not 0', 0x1n, 0x800fn, 0n, 0xc000_0100_0000_0002n],
    ['slot 0 (L1) of R8 not 0', 0x1n, 0n, 0x000fn, 0xc000_0100_0000_0008n],
    ['VM3 slot with NUM_L2_VMS = 2', 0x1n, 0x8001n << 48n, 0n, 0xc000_0100_0000_0002n],
    ['VM3 mask with NUM_L2_VMS = 2', 0x1n, 0n, 0x1n << 48n, 0xc000_0100_0000_0008n],
    ['VALID = 0 with other bits set', 0x1n, 0x0003_0000n, 0x000f_0000n, 0xc000_0100_0000_0002n],
    ['W without R', 0x1n, 0x8002_0000n, 0x000f_0000n, 0xc000_0b11_0000_0000n],
    ['reserved bit 8', 0x1n, 0x8101_0000n, 0x01ff_0000n, 0xc000_0b11_0000_0000n],
    ['SVE (bit 7) is not guest-settable', 0x1n, 0x8081_0000n, 0x008f_0000n, 0xc000_0b11_0000_0000n],
    ['level 3', 0x3n, 0x8001_0000n, 0x000f_0000n, 0xc000_0100_0000_0001n],
    ['unaligned 2 MiB GPN', 0x1001n, 0x8001_0000n, 0x000f_0000n, 0xc000_0100_0000_0001n],
    ['unmapped block', (0x10000n << 12n) | 1n, 0x8001_0000n, 0x000f_0000n, 0xc000_0b00_0000_0001n],
  ])('%s: the status, and nothing changes', (_name, rcx, rdx, r8, rax) => {
    const m = td()
    const before = m.toJSON()
    expect(m.tdcall(0, wr(rcx, rdx, r8)).rax).toBe(rax)
    expect(m.toJSON()).toEqual(before)
  })

  it('PAGE_ATTR_INVALID returns RCX = 0 and the current attributes in RDX', () => {
    const o = td().tdcall(0, wr(0x1n, 0x8002_0000n, 0x000f_0000n))
    expect([o.rcx, o.rdx]).toEqual([0n, 0x8001_800f_800fn])
  })

  it('2M over pages accepted at 4K is TDX_PAGE_SIZE_MISMATCH (details = 1); 4K works', () => {
    const m = new SoftwareTdxModule({ vps: 1, ram: [{ gpn: 0, pages: 512 }], ramLevel: 0 })
    expect(m.tdcall(0, tdgMemPageAttrWr({ level: 1, gpn: 0n }, 0x8001_0000n, 0xf_0000n)).rax).toBe(
      0xc000_0b0b_0000_0001n
    )
    expect(m.tdcall(0, tdgMemPageAttrWr({ level: 0, gpn: 3n }, 0x8001_0000n, 0xf_0000n)).rax).toBe(
      0n
    )
    expect(m.pageAttr(3).vm1).toBe(0x8001)
    expect(m.pageAttr(4).vm1).toBe(0x800f)
  })

  it('a 4K write inside a 2M leaf demotes the leaf (host TDH.MEM.PAGE.DEMOTE)', () => {
    const m = td()
    expect(m.tdcall(0, tdgMemPageAttrWr({ level: 0, gpn: 5n }, 0x8001_0000n, 0xf_0000n)).rax).toBe(
      0n
    )
    expect(m.pageAttr(5)).toMatchObject({ level: 0, vm1: 0x8001 })
    expect(m.pageAttr(6)).toMatchObject({ level: 0, vm1: 0x800f })
    expect(m.pageAttr(512)).toMatchObject({ level: 1 })
    // Now the first 2 MiB is 4K-mapped: a 2M write mismatches.
    expect(m.tdcall(0, tdgMemPageAttrWr({ level: 1, gpn: 0n }, 0x8001_0000n, 0xf_0000n)).rax).toBe(
      0xc000_0b0b_0000_0001n
    )
  })

  it('is allowed on a pending page; the alias survives ACCEPT', () => {
    const m = new SoftwareTdxModule({ vps: 1 })
    m.hostAug(0x100, 1, 0)
    const o = m.tdcall(0, tdgMemPageAttrWr({ level: 0, gpn: 0x100n }, 0x800f_0000n, 0xf_0000n))
    expect([o.rax, o.rcx]).toEqual([0n, 0x4000_0000_0010_0000n])
    expect(m.tdcall(0, tdgMemPageAccept({ level: 0, gpn: 0x100n })).rax).toBe(0n)
    expect(m.pageAttr(0x100)).toMatchObject({ accepted: true, vm1: 0x800f })
  })

  it('mask bit 15 of a slot requests INVEPT of that VM', () => {
    const m = td()
    m.tdcall(0, wr(0x1n, 0x8001_0000_0000n, 0x800f_0000_0000n))
    expect(m.invept).toEqual([0, 0, 1, 0])
  })
})

describe('TDG.MEM.PAGE.ATTR.RD', () => {
  it.each([
    ['an accepted 2M page', 0x205n << 12n, 0n, 0x20_0001n, 0x8001_800f_800fn],
    ['an unmapped page', 0x9000n << 12n, 0xc000_0b00_0000_0001n, 0n, 0n],
  ])('%s', (_name, gpa, rax, rcx, rdx) => {
    const o = td().tdcall(0, tdgMemPageAttrRd(gpa))
    expect([o.rax, o.rcx, o.rdx]).toEqual([rax, rcx, rdx])
  })

  it('ignores bits 11:0 of the GPA', () => {
    const o = td().tdcall(0, { leaf: 23, rcx: 0x1fffn, rdx: 0n, r8: 0n, r9: 0n })
    expect([o.rax, o.rcx]).toEqual([0n, 0x1n])
  })

  it.each([
    ['a shared GPA', 1n << 47n],
    ['bits 63:52', (1n << 52n) | 0x1000n],
  ])('%s → TDX_OPERAND_INVALID (RCX)', (_name, rcx) => {
    expect(td().tdcall(0, { leaf: 23, rcx, rdx: 0n, r8: 0n, r9: 0n }).rax).toBe(
      0xc000_0100_0000_0001n
    )
  })
})

describe("pageAttr (what an L2 access finds; the rule is core's checkAccess)", () => {
  const m = new SoftwareTdxModule({
    vps: 1,
    ram: [{ gpn: 0, pages: 16, level: 0 }],
    ramAttr: { vm1: 0x8001, vm2: 0x800c },
  })
  it.each([
    [1, { accepted: true, vm1: 0x8001, vm2: 0x800c }],
    [15, { accepted: true, vm1: 0x8001, vm2: 0x800c }],
    [16, { accepted: false, vm1: 0, vm2: 0 }],
  ] as const)('page %d', (gpn, expected) => {
    expect(m.pageAttr(gpn)).toMatchObject(expected)
  })

  it('pageAttr refuses a GPN outside the private space', () => {
    expect(() => m.pageAttr(2 ** 35)).toThrow(/private GPA space/)
  })
})
