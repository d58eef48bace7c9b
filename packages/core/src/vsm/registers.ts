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

// The reset segments and tables, shared by every bank: registers are replaced whole, never changed
// in place (frozen, so that a change in place would throw rather than reach every VP).
const RESET_CS = segment(0xf000, 0xffff_0000n, 0x9b)
const RESET_DATA = segment(0, 0n, 0x93)
const RESET_TR = segment(0, 0n, 0x8b)
const RESET_LDTR = segment(0, 0n, 0x82)
const RESET_TABLE: TableRegister = Object.freeze({ limit: 0xffff, base: 0n })

/** The architectural reset state (what `TdxBacked::init` writes to both VTLs' VMCS). */
export function resetPrivateRegisters(): PrivateRegisters {
  return {
    rip: 0xfff0n,
    rsp: 0n,
    rflags: 0x2n,
    cr0: 0x6000_0010n,
    cr3: 0n,
    cr4: 0n,
    cr8: 0n,
    efer: 0n,
    pat: 0x0007_0406_0007_0406n,
    cs: RESET_CS,
    ds: RESET_DATA,
    es: RESET_DATA,
    fs: RESET_DATA,
    gs: RESET_DATA,
    ss: RESET_DATA,
    tr: RESET_TR,
    ldtr: RESET_LDTR,
    idtr: RESET_TABLE,
    gdtr: RESET_TABLE,
    dr7: 0x400n,
    kernelGsBase: 0n,
    star: 0n,
    lstar: 0n,
    cstar: 0n,
    sfmask: 0n,
    sysenterCs: 0n,
    sysenterEip: 0n,
    sysenterEsp: 0n,
    tscAux: 0n,
  }
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
