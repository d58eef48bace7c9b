import { nameIndex } from '../internal/name-index.js'

/** Architectural MSR numbers the VTL0 instruction rules know (Intel SDM vol. 4). */
export const Msr = {
  ApicBase: 0x1b,
  SysenterCs: 0x174,
  SysenterEsp: 0x175,
  SysenterEip: 0x176,
  MiscEnable: 0x1a0,
  Pat: 0x277,
  SCet: 0x6a2,
  Pl0Ssp: 0x6a4,
  Pl1Ssp: 0x6a5,
  Pl2Ssp: 0x6a6,
  Pl3Ssp: 0x6a7,
  InterruptSspTableAddr: 0x6a8,
  Xss: 0xda0,
  Efer: 0xc000_0080,
  Star: 0xc000_0081,
  Lstar: 0xc000_0082,
  Cstar: 0xc000_0083,
  Sfmask: 0xc000_0084,
  FsBase: 0xc000_0100,
  GsBase: 0xc000_0101,
  KernelGsBase: 0xc000_0102,
  TscAux: 0xc000_0103,
} as const

/** What RDMSR of IA32_MISC_ENABLE returns (the Microsoft hypervisor's value, `hv1_emulator`). */
export const MISC_ENABLE_VALUE = 0x85_1809n

const index = nameIndex(Msr)
const byLowerName = new Map(Object.entries(Msr).map(([name, msr]) => [name.toLowerCase(), msr]))

/** An MSR number from its architectural name (case-insensitive), or undefined. */
export function msrFromName(name: string): number | undefined {
  return byLowerName.get(name.toLowerCase())
}

/** The architectural name of an MSR number, or `0x…` hex for one the table does not list. */
export function msrName(msr: number): string {
  return index.nameOf(msr) ?? `0x${msr.toString(16)}`
}
