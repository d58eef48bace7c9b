import { VtlError } from '@vtl/core'
import { X86Reg } from '../unicorn/constants.js'
import type { VtlContext } from '../cpu/vtl-context.js'

/** The top of RAM the loader owns: GDT and identity-map page tables. */
export const LOADER_AREA_BYTES = 0x10_0000
const TWO_MIB = 0x20_0000
const ONE_GIB = 0x4000_0000

/** The architectural start state of a started VP's VTL0 (the scenario format's "Guest code"). */
export const X86_START_STATE = {
  /** SCE | LME | LMA | NXE */
  efer: 0xd01n,
  /** PE | MP | ET | NE | WP | PG */
  cr0: 0x8001_0033n,
  /** PAE | PGE | OSFXSR | OSXMMEXCPT */
  cr4: 0x6a0n,
  /** IF = 0 (bit 1 is always set). */
  rflags: 0x2n,
  codeSelector: 0x08,
  dataSelector: 0x10,
} as const

/** GDT: null, 64-bit ring-0 code (0x08), flat ring-0 data (0x10). */
const GDT = [0n, 0x0020_9b00_0000_0000n, 0x00cf_9300_0000_ffffn]

export interface LoaderLayout {
  gdtBase: bigint
  gdtLimit: number
  /** The PML4's GPA (CR3). */
  cr3: bigint
}

/**
 * Writes the loader's tables into the top 1 MiB of RAM: the GDT and a 4-level identity map of all
 * RAM (2 MiB pages, read/write/execute, supervisor). RAM must be whole 2 MiB pages and larger
 * than the loader's area.
 */
export function buildLoaderTables(ram: Uint8Array): LoaderLayout {
  const size = ram.byteLength
  if (size % TWO_MIB !== 0 || size <= LOADER_AREA_BYTES) {
    throw new VtlError(
      'E_UNALIGNED',
      `guest RAM of ${size} bytes is not whole 2 MiB pages above 1 MiB`,
      {
        field: 'memory',
      }
    )
  }
  const gibs = Math.ceil(size / ONE_GIB)
  const base = size - LOADER_AREA_BYTES
  const pml4 = base + 0x1000
  const pdpt = base + 0x2000
  const pds = base + 0x3000
  if (pds + gibs * 0x1000 > size) {
    throw new VtlError(
      'E_FIELD_RANGE',
      `${gibs} GiB of RAM need more page tables than 1 MiB holds`,
      {
        field: 'memory',
      }
    )
  }
  ram.fill(0, base, size)
  const view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength)
  GDT.forEach((d, i) => {
    view.setBigUint64(base + i * 8, d, true)
  })
  view.setBigUint64(pml4, BigInt(pdpt) | 0x3n, true)
  for (let g = 0; g < gibs; g++)
    view.setBigUint64(pdpt + g * 8, BigInt(pds + g * 0x1000) | 0x3n, true)
  for (let page = 0; page < size / TWO_MIB; page++) {
    view.setBigUint64(pds + page * 8, BigInt(page * TWO_MIB) | 0x83n, true)
  }
  return { gdtBase: BigInt(base), gdtLimit: GDT.length * 8 - 1, cr3: BigInt(pml4) }
}

export interface X86Entry {
  rip: bigint
  rsp: bigint
}

/**
 * Puts a VTL context in the start state: long mode at CPL 0 with IF = 0, flat segments, paging on
 * over the loader's identity map, GDTR and CR3 in the loader's area, no IDT (limit 0) until the
 * guest loads one.
 */
export function applyStartState(context: VtlContext, layout: LoaderLayout, entry: X86Entry): void {
  const { engine } = context
  engine.writeTable(X86Reg.GDTR, {
    selector: 0,
    base: layout.gdtBase,
    limit: layout.gdtLimit,
    flags: 0,
  })
  engine.writeTable(X86Reg.IDTR, { selector: 0, base: 0n, limit: 0, flags: 0 })
  context.writeMsr(0xc000_0080, X86_START_STATE.efer)
  engine.writeReg(X86Reg.CR4, X86_START_STATE.cr4)
  engine.writeReg(X86Reg.CR3, layout.cr3)
  engine.writeReg(X86Reg.CR0, X86_START_STATE.cr0)
  engine.writeSelector(X86Reg.CS, X86_START_STATE.codeSelector)
  for (const seg of [X86Reg.DS, X86Reg.ES, X86Reg.SS, X86Reg.FS, X86Reg.GS]) {
    engine.writeSelector(seg, X86_START_STATE.dataSelector)
  }
  engine.writeRegs(
    [X86Reg.RIP, X86Reg.RSP, X86Reg.RFLAGS],
    [entry.rip, entry.rsp, X86_START_STATE.rflags]
  )
}
