import type { SegmentRegister, TableRegister } from '../hv/segment-register.js'

/**
 * One VTL's private register bank on TDX (vsm-on-tdx.md §6.4): `TdxPrivateRegs` (RIP, RSP, RFLAGS,
 * syscall MSRs), the VMCS guest state (CRs, EFER, segments, descriptor tables, PAT, DR7) and the
 * virtual MSRs. The initial VP context sets the first group (§4.4).
 */
export interface PrivateRegisters {
  rip: bigint
  rsp: bigint
  rflags: bigint
  cr0: bigint
  cr3: bigint
  cr4: bigint
  cr8: bigint
  efer: bigint
  pat: bigint
  cs: SegmentRegister
  ds: SegmentRegister
  es: SegmentRegister
  fs: SegmentRegister
  gs: SegmentRegister
  ss: SegmentRegister
  tr: SegmentRegister
  ldtr: SegmentRegister
  idtr: TableRegister
  gdtr: TableRegister
  dr7: bigint
  kernelGsBase: bigint
  star: bigint
  lstar: bigint
  cstar: bigint
  sfmask: bigint
  sysenterCs: bigint
  sysenterEip: bigint
  sysenterEsp: bigint
  tscAux: bigint
}

/** A write of some of a VTL's private registers (what `VpPort.writeVtlRegisters` carries). */
export type VtlRegisterWrite = Partial<PrivateRegisters>

/** GPRs (except RSP), CR2, DR0–DR3/DR6 and XFEM: one copy per VP shared by both VTLs on TDX. */
export interface SharedRegisters {
  rax: bigint
  rcx: bigint
  rdx: bigint
  rbx: bigint
  rbp: bigint
  rsi: bigint
  rdi: bigint
  r8: bigint
  r9: bigint
  r10: bigint
  r11: bigint
  r12: bigint
  r13: bigint
  r14: bigint
  r15: bigint
  cr2: bigint
  dr0: bigint
  dr1: bigint
  dr2: bigint
  dr3: bigint
  dr6: bigint
  xfem: bigint
}

function segment(selector: number, base: bigint, attributes: number): SegmentRegister {
  return Object.freeze({ base, limit: 0xffff, selector, attributes })
}

/**
 * The RIP of a bank from `resetPrivateRegisters` is an accessor over a hidden cell: every
 * hypercall and VTL switch moves RIP past an instruction, and a BigInt add allocates, so the
 * advance works on two u32 halves and the BigInt is built again only when `rip` is read. To
 * everything else `rip` is an ordinary property (spread, structuredClone, Object.assign and JSON
 * all go through the accessor; the cell is not enumerable).
 */
interface RipCell {
  /** RIP as a BigInt; undefined while the halves are ahead of it. */
  ripValue: bigint | undefined
  /** RIP[31:0], or -1 while `ripValue` holds the value and the halves are not split yet. */
  ripLow: number
  /** RIP[63:32] (when `ripLow` >= 0). */
  ripHigh: number
}

function getRip(this: RipCell): bigint {
  let value = this.ripValue
  if (value === undefined) {
    value = (BigInt(this.ripHigh) << 32n) | BigInt(this.ripLow)
    this.ripValue = value
  }
  return value
}

function setRip(this: RipCell, value: bigint): void {
  this.ripValue = value
  this.ripLow = -1
}

// One accessor pair for every bank (banks share their hidden class); RIP comes first, as before.
const RIP_ACCESSOR: PropertyDescriptor = { get: getRip, set: setRip, enumerable: true }
const RIP_VALUE_RESET: PropertyDescriptor = { value: 0xfff0n, writable: true }
const RIP_LOW_RESET: PropertyDescriptor = { value: -1, writable: true }
const RIP_HIGH_RESET: PropertyDescriptor = { value: 0, writable: true }

const U64_MASK = 0xffff_ffff_ffff_ffffn
const TWO_32 = 0x1_0000_0000

/** RIP past an instruction of `length` bytes, wrapping at 2^64 (no BigInt on a bank's cell). */
export function advanceRip(registers: PrivateRegisters, length: number): void {
  const cell = registers as unknown as Partial<RipCell>
  let low = cell.ripLow
  if (low === undefined) {
    // A bank not made by `resetPrivateRegisters` (a plain object).
    registers.rip = (registers.rip + BigInt(length)) & U64_MASK
    return
  }
  let high: number
  if (low < 0) {
    const value = cell.ripValue ?? 0n
    low = Number(value & 0xffff_ffffn)
    high = Number((value >> 32n) & 0xffff_ffffn)
  } else {
    high = cell.ripHigh ?? 0
  }
  low += length
  if (low >= TWO_32) {
    low -= TWO_32
    high = (high + 1) >>> 0
  }
  cell.ripLow = low
  cell.ripHigh = high
  cell.ripValue = undefined
}

// The reset segments and tables, shared by every bank: registers are replaced whole, never changed
// in place (frozen, so that a change in place would throw rather than reach every VP).
const RESET_CS = segment(0xf000, 0xffff_0000n, 0x9b)
const RESET_DATA = segment(0, 0n, 0x93)
const RESET_TR = segment(0, 0n, 0x8b)
const RESET_LDTR = segment(0, 0n, 0x82)
const RESET_TABLE: TableRegister = Object.freeze({ limit: 0xffff, base: 0n })

/**
 * A reset bank as a constructor: its fields then live inside the object (no separate property
 * store), and four `defineProperty` calls with shared descriptors cost half of one
 * `defineProperties`. The prototype is `Object.prototype`: a bank is a plain object.
 */
const ResetBank = function ResetBank(this: PrivateRegisters) {
  Object.defineProperty(this, 'rip', RIP_ACCESSOR)
  Object.defineProperty(this, 'ripValue', RIP_VALUE_RESET)
  Object.defineProperty(this, 'ripLow', RIP_LOW_RESET)
  Object.defineProperty(this, 'ripHigh', RIP_HIGH_RESET)
  this.rsp = 0n
  this.rflags = 0x2n
  this.cr0 = 0x6000_0010n
  this.cr3 = 0n
  this.cr4 = 0n
  this.cr8 = 0n
  this.efer = 0n
  this.pat = 0x0007_0406_0007_0406n
  this.cs = RESET_CS
  this.ds = RESET_DATA
  this.es = RESET_DATA
  this.fs = RESET_DATA
  this.gs = RESET_DATA
  this.ss = RESET_DATA
  this.tr = RESET_TR
  this.ldtr = RESET_LDTR
  this.idtr = RESET_TABLE
  this.gdtr = RESET_TABLE
  this.dr7 = 0x400n
  this.kernelGsBase = 0n
  this.star = 0n
  this.lstar = 0n
  this.cstar = 0n
  this.sfmask = 0n
  this.sysenterCs = 0n
  this.sysenterEip = 0n
  this.sysenterEsp = 0n
  this.tscAux = 0n
} as unknown as { new (): PrivateRegisters; prototype: object }
ResetBank.prototype = Object.prototype

/** The architectural reset state (what `TdxBacked::init` writes to both VTLs' VMCS). */
export function resetPrivateRegisters(): PrivateRegisters {
  return new ResetBank()
}

export function resetSharedRegisters(): SharedRegisters {
  return {
    rax: 0n,
    rcx: 0n,
    rdx: 0n,
    rbx: 0n,
    rbp: 0n,
    rsi: 0n,
    rdi: 0n,
    r8: 0n,
    r9: 0n,
    r10: 0n,
    r11: 0n,
    r12: 0n,
    r13: 0n,
    r14: 0n,
    r15: 0n,
    cr2: 0n,
    dr0: 0n,
    dr1: 0n,
    dr2: 0n,
    dr3: 0n,
    dr6: 0xffff_0ff0n,
    xfem: 1n,
  }
}
