/** What a linear access is: the bits of a #PF error code it needs. */
export type AccessKind = 'read' | 'write' | 'execute'

export interface WalkOptions {
  cr3: bigint
  /** CR0.WP: supervisor writes honour read-only pages. */
  writeProtect: boolean
  /** CPL 3 (user) or not. */
  user: boolean
}

/** #PF error-code bits (SDM Vol. 3 §4.7). */
export const PfError = { PRESENT: 1, WRITE: 2, USER: 4, RSVD: 8, FETCH: 16 } as const

export type WalkResult =
  | { kind: 'ok'; gpa: bigint }
  /** The walk faults: a #PF with this error code (CR2 = the linear address). */
  | { kind: 'page-fault'; errorCode: number }
  /** A paging-structure entry lies outside guest RAM. */
  | { kind: 'table-outside-ram'; gpa: bigint }

const ADDRESS_MASK = 0x000f_ffff_ffff_f000n
const PS = 0x80n
// Bits 51:M above a 52-bit physical width never exist; NX (63) is reserved while EFER.NXE is
// clear, which is how this CPU model runs (see the package README).
const RESERVED_HIGH = 0xfff0_0000_0000_0000n

/**
 * The 4-level IA-32e walk the CPU does (4 KiB, 2 MiB and 1 GiB pages) over the guest RAM bytes:
 * linear address → guest physical address, or the #PF the access raises. Accessed/dirty bits are
 * not written (nothing here reads them back).
 */
export function walkPageTables(
  ram: Uint8Array,
  linear: bigint,
  access: AccessKind,
  options: WalkOptions
): WalkResult {
  const view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength)
  const baseError =
    (access === 'write' ? PfError.WRITE : 0) |
    (access === 'execute' ? PfError.FETCH : 0) |
    (options.user ? PfError.USER : 0)
  let table = options.cr3 & ADDRESS_MASK
  let writable = true
  let userOk = true
  for (let level = 4; ; level--) {
    const shift = BigInt(12 + 9 * (level - 1))
    const index = Number((linear >> shift) & 0x1ffn)
    const entryGpa = table + BigInt(index * 8)
    if (entryGpa + 8n > BigInt(ram.byteLength)) return { kind: 'table-outside-ram', gpa: entryGpa }
    const entry = view.getBigUint64(Number(entryGpa), true)
    if ((entry & 1n) === 0n) return { kind: 'page-fault', errorCode: baseError }
    if ((entry & RESERVED_HIGH) !== 0n) {
      return { kind: 'page-fault', errorCode: baseError | PfError.PRESENT | PfError.RSVD }
    }
    writable &&= (entry & 2n) !== 0n
    userOk &&= (entry & 4n) !== 0n
    const leaf = level === 1 || ((level === 2 || level === 3) && (entry & PS) !== 0n)
    if (!leaf) {
      table = entry & ADDRESS_MASK
      continue
    }
    const protection =
      (options.user && !userOk) ||
      (access === 'write' && !writable && (options.user || options.writeProtect))
    if (protection) return { kind: 'page-fault', errorCode: baseError | PfError.PRESENT }
    const offsetMask = (1n << shift) - 1n
    return { kind: 'ok', gpa: (entry & ADDRESS_MASK & ~offsetMask) | (linear & offsetMask) }
  }
}
