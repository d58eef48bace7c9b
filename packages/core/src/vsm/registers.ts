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

/** Returns the object it is given, so that a subclass adds its private fields to that object. */
// eslint-disable-next-line @typescript-eslint/no-extraneous-class -- a base for RipCell alone
class Given {
  constructor(object: object) {
    return object
  }
}

const U64_MASK = 0xffff_ffff_ffff_ffffn
const TWO_32 = 0x1_0000_0000

/**
 * The RIP of a bank from `resetPrivateRegisters` is an accessor over a hidden cell: every
 * hypercall and VTL switch moves RIP past an instruction, and a BigInt add allocates, so the
 * advance works on two u32 halves and the BigInt is built again only when `rip` is read. To
 * everything else `rip` is an ordinary property (spread, structuredClone, Object.assign and JSON
 * all go through the accessor). The cell is three private fields added to the bank (`new
 * RipCell(bank)`): no property of the bank shows it, and adding them costs no `defineProperty`.
 * A copy made through property descriptors (`Object.getOwnPropertyDescriptors`) gets the accessor
 * without a cell, so reading its `rip` throws a TypeError: copy a bank by value instead.
 */
class RipCell extends Given {
  /** RIP as a BigInt; undefined while the halves are ahead of it. */
  #value: bigint | undefined = 0xfff0n
  /** RIP[31:0], or -1 while `#value` holds the value and the halves are not split yet. */
  #low = -1
  /** RIP[63:32] (when `#low` >= 0). */
  #high = 0

  static read(bank: RipCell): bigint {
    let value = bank.#value
    if (value === undefined) {
      value = (BigInt(bank.#high) << 32n) | BigInt(bank.#low)
      bank.#value = value
    }
    return value
  }

  static write(bank: RipCell, value: bigint): void {
    // The cell is no property, so freezing the bank would not stop it: a frozen bank's RIP
    // refuses a write as a data property would.
    if (Object.isFrozen(bank)) readOnlyRip()
    bank.#value = value
    bank.#low = -1
  }

  /**
   * RIP past `length` bytes on a bank with a cell; false (nothing done) for any other object. A
   * frozen bank is not refused here (an `Object.isFrozen` test would double the cost of this, the
   * hottest register operation): never freeze a live bank.
   */
  static advance(registers: object, length: number): boolean {
    if (!(#low in registers)) return false
    const bank = registers
    let low = bank.#low
    let high: number
    if (low < 0) {
      const value = bank.#value ?? 0n
      low = Number(value & 0xffff_ffffn)
      high = Number((value >> 32n) & 0xffff_ffffn)
    } else {
      high = bank.#high
    }
    low += length
    if (low >= TWO_32) {
      low -= TWO_32
      high = (high + 1) >>> 0
    }
    bank.#low = low
    bank.#high = high
    bank.#value = undefined
    return true
  }
}

function readOnlyRip(): never {
  throw new TypeError("Cannot assign to read only property 'rip' of object")
}

// One accessor pair for every bank (banks share their hidden class); RIP comes first, as before.
const RIP_ACCESSOR: PropertyDescriptor = {
  get(this: RipCell): bigint {
    return RipCell.read(this)
  },
  set(this: RipCell, value: bigint): void {
    RipCell.write(this, value)
  },
  enumerable: true,
}

/** RIP past an instruction of `length` bytes, wrapping at 2^64 (no BigInt on a bank's cell). */
export function advanceRip(registers: PrivateRegisters, length: number): void {
  // A bank not made by `resetPrivateRegisters` (a plain object) adds as a BigInt.
  if (!RipCell.advance(registers, length)) {
    registers.rip = (registers.rip + BigInt(length)) & U64_MASK
  }
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
 * store). The prototype is `Object.prototype`: a bank is a plain object.
 */
const ResetBank = function ResetBank(this: PrivateRegisters) {
  Object.defineProperty(this, 'rip', RIP_ACCESSOR)
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
  const bank = new ResetBank()
  new RipCell(bank)
  return bank
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
