import { VtlError, type GuestVtl } from '@vtl/core'

/** Access bits of one guest page for one VTL (the same bits as Unicorn's protections). */
export const PageAccess = { NONE: 0, READ: 1, WRITE: 2, EXECUTE: 4, ALL: 7 } as const

/**
 * Where a VTL's page permissions come from: per guest page number, the R/W/X that VTL may use.
 * The software TDX module's Secure EPT (the L2 VM's GPA_ATTR) is one; `version` changes whenever
 * any answer may have changed, so an execution context re-reads only after a change.
 */
export interface PagePermissionSource {
  access(vtl: GuestVtl, gpn: number): number
  version(): number
}

const GPA_ATTR_VALID = 0x8000

/**
 * A TDX L2 VM's 16-bit GPA_ATTR slot (R = bit 0, W = 1, KX = 2, UX = 3, VALID = 15) as page
 * access: nothing without VALID, execute from KX (guest code here runs in kernel mode).
 */
export function accessFromGpaAttr(attr: number): number {
  if ((attr & GPA_ATTR_VALID) === 0) return PageAccess.NONE
  return (
    (attr & 1 ? PageAccess.READ : 0) |
    (attr & 2 ? PageAccess.WRITE : 0) |
    (attr & 4 ? PageAccess.EXECUTE : 0)
  )
}

/** A plain table of permissions per VTL and page (everything allowed until restricted). */
export class PagePermissionTable implements PagePermissionSource {
  private readonly tables: [Uint8Array, Uint8Array]
  private changes = 0

  constructor(readonly pages: number) {
    this.tables = [new Uint8Array(pages).fill(7), new Uint8Array(pages).fill(7)]
  }

  access(vtl: GuestVtl, gpn: number): number {
    return this.tables[vtl][gpn] ?? PageAccess.NONE
  }

  version(): number {
    return this.changes
  }

  set(vtl: GuestVtl, gpn: number, count: number, access: number): void {
    if (!Number.isInteger(access) || access < 0 || access > 7) {
      throw new VtlError('E_FIELD_RANGE', `page access ${access} is outside 0..7`, {
        field: 'access',
      })
    }
    if (gpn < 0 || count < 0 || gpn + count > this.pages) {
      throw new VtlError('E_NOT_RAM', `pages ${gpn}+${count} are outside guest RAM`, {
        field: 'gpn',
      })
    }
    this.tables[vtl].fill(access, gpn, gpn + count)
    this.changes++
  }
}
