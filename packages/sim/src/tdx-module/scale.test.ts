import { describe, expect, it } from 'vitest'
import { VmcsField, tdgMemPageAttrWr, tdgVpWr, vmcsFieldCode } from '@vtl/core'
import { SoftwareTdxModule } from './software-tdx-module.js'

const TiB_PAGES = 2 ** 28

describe('a 1 TiB, 1024-VP TD', () => {
  it('holds O(1) entries at creation, not per page or per VP', () => {
    const m = new SoftwareTdxModule({ vps: 1024, ram: [{ gpn: 0, pages: TiB_PAGES }] })
    // One accepted run (2 MiB leaves) and the free rest of the private space.
    expect(m.storageStats()).toEqual({ pageRuns: 2, pageStates: 2, vpStates: 0, fields: 0 })
    expect(m.pageAttr(TiB_PAGES - 1)).toEqual({
      accepted: true,
      pending: false,
      level: 1,
      vm1: 0x800f,
      vm2: 0,
      vm3: 0,
    })
    expect(m.pageAttr(TiB_PAGES).accepted).toBe(false)
  })

  it('grows with what is touched: one VP written, one page changed', () => {
    const m = new SoftwareTdxModule({ vps: 1024, ram: [{ gpn: 0, pages: TiB_PAGES }] })
    m.tdcall(
      1023,
      tdgVpWr(vmcsFieldCode(1, VmcsField.VIRTUAL_APIC_PAGE), 0x1000n, ~0n & 0xffff_ffff_ffff_ffffn)
    )
    m.tdcall(7, tdgMemPageAttrWr({ level: 0, gpn: 0x123_4567n }, 0x8001_0000n, 0xf_0000n))
    // The 4 KiB write demoted one 2 MiB leaf: a few runs, not a per-page table.
    const stats = m.storageStats()
    expect(stats.vpStates).toBe(1)
    expect(stats.fields).toBe(1)
    expect(stats.pageRuns).toBeLessThanOrEqual(6)
    expect(m.toJSON().pages.length).toBeLessThanOrEqual(5)
  })
})
