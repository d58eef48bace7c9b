import { describe, expect, it } from 'vitest'
import { tdgMemPageAccept, tdgMemPageAttrRd } from '@vtl/core'
import { SoftwareTdxModule } from './software-tdx-module.js'

/** 64 MiB of boot RAM (accepted at 2 MiB), the rest of the private space unmapped. */
function td(): SoftwareTdxModule {
  return new SoftwareTdxModule({ vps: 2, ram: [{ gpn: 0, pages: 0x4000 }] })
}

const raw = (leaf: number, rcx: bigint) => ({ leaf, rcx, rdx: 0n, r8: 0n, r9: 0n })

describe('TDG.MEM.PAGE.ACCEPT', () => {
  it.each([
    ['4K of a free page', { level: 0, gpn: 0x10000n }, 0x0000_0000_0000_0000n],
    ['2M of a free range', { level: 1, gpn: 0x10200n }, 0x0000_0000_0000_0000n],
    ['4K inside an accepted 2M leaf', { level: 0, gpn: 0x5n }, 0x0000_0b0a_0000_0001n],
    ['2M that is accepted at 2M', { level: 1, gpn: 0x200n }, 0x0000_0b0a_0000_0001n],
  ] as const)('%s', (_name, operand, rax) => {
    const m = td()
    expect(m.tdcall(0, tdgMemPageAccept(operand)).rax).toBe(rax)
  })

  it.each([
    ['level 2 (1 GiB): the module accepts 4K and 2M only', (2n << 0n) | (0x40000n << 12n)],
    ['reserved bits 11:3', (0x10000n << 12n) | 0x8n],
    ['bits 63:52', (1n << 52n) | (0x10000n << 12n)],
    ['a GPN not aligned to 2 MiB', 1n | (0x10001n << 12n)],
    ['a shared GPA (bit 47)', 1n << 47n],
  ])('%s → TDX_OPERAND_INVALID on RCX', (_name, rcx) => {
    expect(td().tdcall(0, raw(6, rcx)).rax).toBe(0xc000_0100_0000_0001n)
  })

  it('accepting again is TDX_PAGE_ALREADY_ACCEPTED (a warning) and changes nothing', () => {
    const m = td()
    expect(m.tdcall(0, tdgMemPageAccept({ level: 0, gpn: 0x20000n })).rax).toBe(0n)
    const before = m.toJSON()
    expect(m.tdcall(1, tdgMemPageAccept({ level: 0, gpn: 0x20000n })).rax).toBe(
      0x0000_0b0a_0000_0000n
    )
    expect(m.toJSON()).toEqual(before)
  })

  it('a 2M accept over a partly 4K-accepted range is TDX_PAGE_SIZE_MISMATCH (details = level 1)', () => {
    const m = td()
    expect(m.tdcall(0, tdgMemPageAccept({ level: 0, gpn: 0x20003n })).rax).toBe(0n)
    expect(m.tdcall(0, tdgMemPageAccept({ level: 1, gpn: 0x20000n })).rax).toBe(
      0xc000_0b0b_0000_0001n
    )
    expect(m.pageAttr(0x20000).accepted).toBe(false)
    expect(m.pageAttr(0x20003)).toEqual({
      accepted: true,
      pending: false,
      level: 0,
      vm1: 0,
      vm2: 0,
      vm3: 0,
    })
  })

  it('accepted pages are zeroed, get no L2 alias, and are mapped at the accept level', () => {
    const zeroed: [number, number][] = []
    const m = new SoftwareTdxModule({ vps: 1, onPagesZeroed: (g, n) => zeroed.push([g, n]) })
    m.tdcall(0, tdgMemPageAccept({ level: 1, gpn: 0x400n }))
    m.tdcall(0, tdgMemPageAccept({ level: 0, gpn: 0x7n }))
    expect(zeroed).toEqual([
      [0x400, 512],
      [0x7, 1],
    ])
    expect(m.pageAttr(0x5ff)).toEqual({
      accepted: true,
      pending: false,
      level: 1,
      vm1: 0,
      vm2: 0,
      vm3: 0,
    })
    // ATTR.RD reports the 2 MiB leaf's own GPA and level, L1 = 0x800F, no L2 alias.
    const rd = m.tdcall(0, tdgMemPageAttrRd(0x5ffn << 12n))
    expect([rd.rax, rd.rcx, rd.rdx]).toEqual([0n, 0x40_0001n, 0x800fn])
  })

  it('a pending 2M leaf is demoted by the host for a 4K accept; the rest stays pending', () => {
    const m = new SoftwareTdxModule({ vps: 1 })
    m.hostAug(0x800, 512, 1)
    expect(m.pageAttr(0x800)).toMatchObject({ pending: true, level: 1 })
    expect(m.tdcall(0, tdgMemPageAccept({ level: 0, gpn: 0x801n })).rax).toBe(0n)
    expect(m.pageAttr(0x801)).toMatchObject({ accepted: true, level: 0 })
    expect(m.pageAttr(0x800)).toMatchObject({ pending: true, level: 0 })
    // ATTR.RD of a pending page sets bit 62 and reports L1 = 0.
    const rd = m.tdcall(0, tdgMemPageAttrRd(0x800n << 12n))
    expect([rd.rax, rd.rcx, rd.rdx]).toEqual([0n, 0x4000_0000_0080_0000n, 0n])
  })
})
