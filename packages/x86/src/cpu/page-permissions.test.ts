import { describe, expect, it } from 'vitest'
import { accessFromGpaAttr, PageAccess, PagePermissionTable } from './page-permissions.js'

describe('accessFromGpaAttr (GPA_ATTR: R 0, W 1, KX 2, UX 3, VALID 15)', () => {
  it.each([
    [0x0000, PageAccess.NONE],
    [0x0007, PageAccess.NONE], // no VALID: no alias at all
    [0x8001, PageAccess.READ],
    [0x8003, PageAccess.READ | PageAccess.WRITE],
    [0x8005, PageAccess.READ | PageAccess.EXECUTE],
    [0x8008, PageAccess.NONE], // UX only: kernel-mode code may not run there
    [0x800f, PageAccess.ALL],
  ])('0x%s', (attr, access) => {
    expect(accessFromGpaAttr(attr)).toBe(access)
  })
})

describe('PagePermissionTable', () => {
  it('keeps one table per VTL and bumps its version on each change', () => {
    const table = new PagePermissionTable(16)
    expect(table.access(0, 3)).toBe(PageAccess.ALL)
    table.set(1, 2, 4, PageAccess.READ)
    expect([
      table.access(1, 1),
      table.access(1, 2),
      table.access(1, 5),
      table.access(1, 6),
    ]).toEqual([PageAccess.ALL, PageAccess.READ, PageAccess.READ, PageAccess.ALL])
    expect(table.access(0, 2)).toBe(PageAccess.ALL)
    expect(table.version()).toBe(1)
  })

  it('refuses pages outside RAM and access values outside 0..7, changing nothing', () => {
    const table = new PagePermissionTable(16)
    expect(() => {
      table.set(0, 15, 2, PageAccess.READ)
    }).toThrow(expect.objectContaining({ code: 'E_NOT_RAM' }))
    expect(() => {
      table.set(0, 0, 1, 8)
    }).toThrow(expect.objectContaining({ code: 'E_FIELD_RANGE' }))
    expect(table.version()).toBe(0)
    expect(table.access(0, 15)).toBe(PageAccess.ALL)
  })
})
