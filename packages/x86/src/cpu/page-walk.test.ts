import { describe, expect, it } from 'vitest'
import { PfError, walkPageTables } from './page-walk.js'

// PML4 @0x1000 → PDPT @0x2000 → PD @0x3000 → PT @0x4000 (64 KiB of RAM).
function tables(): Buffer {
  const ram = Buffer.alloc(0x10000)
  ram.writeBigUInt64LE(0x2003n, 0x1000)
  ram.writeBigUInt64LE(0x3003n, 0x2000)
  ram.writeBigUInt64LE(0x4003n, 0x3000) // 0..2 MiB through the PT
  ram.writeBigUInt64LE(0x20_0083n, 0x3008) // 2..4 MiB: one 2 MiB page
  ram.writeBigUInt64LE(0x5003n, 0x4000 + 5 * 8) // VA 0x5000 → 0x5000, writable
  ram.writeBigUInt64LE(0x6001n, 0x4000 + 6 * 8) // VA 0x6000 → 0x6000, read-only
  ram.writeBigUInt64LE(0x7007n, 0x4000 + 7 * 8) // VA 0x7000 → 0x7000, user
  return ram
}
const options = { cr3: 0x1000n, writeProtect: true, user: false }

describe('walkPageTables (4-level, SDM §4.5)', () => {
  it('translates 4 KiB and 2 MiB pages with the offset', () => {
    expect(walkPageTables(tables(), 0x5123n, 'read', options)).toEqual({ kind: 'ok', gpa: 0x5123n })
    expect(walkPageTables(tables(), 0x2f_1234n, 'write', options)).toEqual({
      kind: 'ok',
      gpa: 0x2f_1234n,
    })
  })

  it.each([
    ['not present, read', 0x8000n, 'read', options, 0],
    ['not present, write', 0x8000n, 'write', options, PfError.WRITE],
    ['not present, fetch', 0x8000n, 'execute', options, PfError.FETCH],
    ['read-only page, WP set', 0x6000n, 'write', options, PfError.PRESENT | PfError.WRITE],
    [
      'supervisor page from user',
      0x5000n,
      'read',
      { ...options, user: true },
      PfError.PRESENT | PfError.USER,
    ],
  ] as const)('%s: #PF error code', (_name, va, access, opts, errorCode) => {
    expect(walkPageTables(tables(), va, access, opts)).toEqual({ kind: 'page-fault', errorCode })
  })

  it('a read-only page is writable at CPL 0 with CR0.WP clear', () => {
    expect(walkPageTables(tables(), 0x6000n, 'write', { ...options, writeProtect: false })).toEqual(
      {
        kind: 'ok',
        gpa: 0x6000n,
      }
    )
  })

  it('reserved bits (NX while EFER.NXE is clear) fault with RSVD', () => {
    const ram = tables()
    ram.writeBigUInt64LE(0x5003n | (1n << 63n), 0x4000 + 5 * 8)
    expect(walkPageTables(ram, 0x5000n, 'read', options)).toEqual({
      kind: 'page-fault',
      errorCode: PfError.PRESENT | PfError.RSVD,
    })
  })

  it('a table outside RAM is reported with its GPA', () => {
    const ram = tables()
    ram.writeBigUInt64LE(0x10_0003n, 0x2008) // PDPT[1] → a PD at 1 MiB, beyond 64 KiB of RAM
    expect(walkPageTables(ram, 0x4000_0000n, 'read', options)).toEqual({
      kind: 'table-outside-ram',
      gpa: 0x10_0000n,
    })
  })
})
