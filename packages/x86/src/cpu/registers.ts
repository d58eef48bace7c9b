import type { GprName } from '@vtl/core'
import { X86Reg } from '../unicorn/constants.js'

export const GPR_IDS: Readonly<Record<GprName, number>> = {
  rax: X86Reg.RAX,
  rcx: X86Reg.RCX,
  rdx: X86Reg.RDX,
  rbx: X86Reg.RBX,
  rsp: X86Reg.RSP,
  rbp: X86Reg.RBP,
  rsi: X86Reg.RSI,
  rdi: X86Reg.RDI,
  r8: X86Reg.R8,
  r9: X86Reg.R9,
  r10: X86Reg.R10,
  r11: X86Reg.R11,
  r12: X86Reg.R12,
  r13: X86Reg.R13,
  r14: X86Reg.R14,
  r15: X86Reg.R15,
}

export type Gprs = Record<GprName, bigint>

/**
 * State both VTLs of a VP share, as TDX holds it (one copy in the run page / the CPU): every GPR
 * but RSP, CR2, DR0–DR3 (`SHARED_GPRS_64`), and the SSE/x87 control state and XMM registers
 * (`SHARED_SSE_CONTROL`, `SHARED_XMM`). The rest — RIP, RSP, RFLAGS, control registers, EFER,
 * segments, descriptor tables, the syscall MSRs, DR7 — is private per VTL (VMCS #1 / #2), so each
 * VTL keeps it in its own engine and a switch leaves it alone. The two parts are apart because a
 * backing whose register banks hold the GPRs carries only the SSE part between engines.
 */
export const SHARED_GPRS_64: readonly number[] = [
  X86Reg.RAX,
  X86Reg.RCX,
  X86Reg.RDX,
  X86Reg.RBX,
  X86Reg.RBP,
  X86Reg.RSI,
  X86Reg.RDI,
  X86Reg.R8,
  X86Reg.R9,
  X86Reg.R10,
  X86Reg.R11,
  X86Reg.R12,
  X86Reg.R13,
  X86Reg.R14,
  X86Reg.R15,
  X86Reg.CR2,
  X86Reg.DR0,
  X86Reg.DR0 + 1,
  X86Reg.DR0 + 2,
  X86Reg.DR0 + 3,
]
/** The shared SSE/x87 control state (64-bit registers). */
export const SHARED_SSE_CONTROL: readonly number[] = [X86Reg.MXCSR, X86Reg.FPCW]
/** XMM0–XMM15 (128-bit, shared). */
export const SHARED_XMM: readonly number[] = Array.from({ length: 16 }, (_, i) => X86Reg.XMM0 + i)
