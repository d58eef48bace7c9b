import { VmxExitBasic } from '@vtl/core'
import { PageAccess } from './page-permissions.js'
import type { X86Exit } from './x86-exit.js'

/** An exit in the fields TDG.VP.ENTER reports for an L2 exit (the loop's `VpExit` inputs). */
export interface X86VmxExit {
  /** RAX[15:0]: the basic exit reason. */
  reason: number
  /** RCX: the exit qualification. */
  qualification: bigint
  /** R8: the GPA of an EPT violation (0 otherwise). */
  gpa: bigint
  /** RDX: the guest linear address of an EPT violation (0 otherwise). */
  gla: bigint
  /** R11[63:32]: the exiting instruction's length. */
  instructionLength: number
}

const IO_SIZE: Record<1 | 2 | 4, bigint> = { 1: 0n, 2: 1n, 4: 3n }
const EPT_ACCESS = { read: 1n, write: 2n, execute: 4n } as const

/**
 * Encodes an exit as VMX reports it (SDM Vol. 3C §28.2.1): I/O qualification (size − 1, IN = bit
 * 3, string 4, REP 5, immediate operand 6, port 31:16), control-register access (CR 3:0, MOV-to-CR
 * = 0 in 5:4, GPR 11:8), EPT violation (access 2:0, the page's R/W/X 5:3, linear address valid 7,
 * access to the translation 8). The instruction limit is reported as an external interrupt (the
 * host took the CPU back: re-enter), as a preemption timer would be.
 */
export function toVmxExit(exit: X86Exit): X86VmxExit {
  const out: X86VmxExit = { reason: 0, qualification: 0n, gpa: 0n, gla: 0n, instructionLength: 0 }
  switch (exit.kind) {
    case 'vmcall':
      return { ...out, reason: VmxExitBasic.VMCALL, instructionLength: exit.length }
    case 'hlt':
      return { ...out, reason: VmxExitBasic.HLT, instructionLength: exit.length }
    case 'cpuid':
      return { ...out, reason: VmxExitBasic.CPUID, instructionLength: exit.length }
    case 'rdmsr':
      return { ...out, reason: VmxExitBasic.MSR_READ, instructionLength: exit.length }
    case 'wrmsr':
      return { ...out, reason: VmxExitBasic.MSR_WRITE, instructionLength: exit.length }
    case 'io':
      return {
        ...out,
        reason: VmxExitBasic.IO,
        instructionLength: exit.length,
        qualification:
          IO_SIZE[exit.size] |
          (exit.direction === 'in' ? 1n << 3n : 0n) |
          (exit.string ? 1n << 4n : 0n) |
          (exit.rep ? 1n << 5n : 0n) |
          (exit.immediate ? 1n << 6n : 0n) |
          (BigInt(exit.port) << 16n),
      }
    case 'cr-write':
      return {
        ...out,
        reason: VmxExitBasic.CR_ACCESS,
        instructionLength: exit.length,
        qualification: BigInt(exit.cr) | (BigInt(exit.gpr) << 8n),
      }
    case 'ept-violation': {
      const page =
        ((exit.pageAccess & PageAccess.READ) !== 0 ? 1n << 3n : 0n) |
        ((exit.pageAccess & PageAccess.WRITE) !== 0 ? 1n << 4n : 0n) |
        ((exit.pageAccess & PageAccess.EXECUTE) !== 0 ? 1n << 5n : 0n)
      return {
        ...out,
        reason: VmxExitBasic.EPT_VIOLATION,
        qualification: EPT_ACCESS[exit.access] | page | (1n << 7n) | (1n << 8n),
        gpa: exit.gpa,
        gla: exit.gla,
        instructionLength: exit.length,
      }
    }
    case 'triple-fault':
      return { ...out, reason: VmxExitBasic.TRIPLE_FAULT }
    case 'instruction-limit':
      return { ...out, reason: VmxExitBasic.EXTERNAL_INTERRUPT }
  }
}
