import type { GuestVtl } from '../../hv/vtl.js'
import { VmxExitBasic } from '../../tdx/vmx-exit.js'
import { GPR_NAMES } from '../../x86/gpr.js'
import type { VsmEngine } from '../engine.js'
import { executeIo, executeMovToCr, executeRdmsr, executeWrmsr } from '../instruction-intercept.js'
import type { InstructionOutcome } from '../instruction-outcome.js'
import type { SharedRegisters } from '../registers.js'
import { executeXsetbv } from '../secure-register-loads.js'
import type { VpExit } from './vp-exit.js'

/** The instruction behind an instruction exit the paravisor emulates or forwards (§13.16). */
export type InstructionKind = 'io' | 'mov-to-cr' | 'rdmsr' | 'wrmsr' | 'xsetbv'

/** An instruction exit and what became of it: performed, #GP, or intercepted for VTL1. */
export interface InstructionExit {
  kind: 'instruction'
  instruction: InstructionKind
  outcome: InstructionOutcome
}

const U32 = 0xffff_ffffn
/** Access sizes by the qualification's bits 2:0 (0, 1 and 3 are defined). */
const IO_SIZES: readonly (1 | 2 | 4 | undefined)[] = [1, 2, undefined, 4]

function gpr(engine: VsmEngine, vp: number, vtl: GuestVtl, index: number): bigint {
  // A CR-access qualification's bits 11:8 number the GPR in the x86 encoding order.
  const name = GPR_NAMES[index] ?? 'rax'
  const state = engine.vp(vp)
  // RSP is per VTL (VMCS guest state); every other GPR is shared (§6.4).
  return name === 'rsp' ? state.vtls[vtl].registers.rsp : state.shared[name]
}

/**
 * The instruction exits of §13.16, decoded from what the hardware reports: IO (qualification:
 * size − 1 in 2:0, IN in bit 3, string in bit 4, port in 31:16; DX/RAX in the guest's registers),
 * CR_ACCESS (CR in 3:0, access type in 5:4, source GPR in 11:8), MSR_READ/MSR_WRITE (ECX, EDX:EAX)
 * and XSETBV. Undefined for a form the paravisor does not take (string I/O, a CR other than 0/4,
 * CLTS/LMSW/MOV from CR): the loop reports it as unhandled and nothing changes.
 */
export function handleInstructionExit(
  engine: VsmEngine,
  vp: number,
  vtl: GuestVtl,
  exit: VpExit
): InstructionExit | undefined {
  const q = exit.qualification
  switch (exit.reason) {
    case VmxExitBasic.IO: {
      const size = IO_SIZES[Number(q & 7n)]
      if ((q & 0x10n) !== 0n || size === undefined) return undefined
      const port = Number((q >> 16n) & 0xffffn)
      const outcome = executeIo(engine, vp, { port, size, write: (q & 8n) === 0n })
      return { kind: 'instruction', instruction: 'io', outcome }
    }
    case VmxExitBasic.CR_ACCESS: {
      const cr = Number(q & 0xfn)
      if (((q >> 4n) & 3n) !== 0n || (cr !== 0 && cr !== 4)) return undefined
      const value = gpr(engine, vp, vtl, Number((q >> 8n) & 0xfn))
      return {
        kind: 'instruction',
        instruction: 'mov-to-cr',
        outcome: executeMovToCr(engine, vp, cr === 0 ? 0 : 4, value),
      }
    }
    case VmxExitBasic.MSR_READ:
    case VmxExitBasic.MSR_WRITE: {
      const regs: SharedRegisters = engine.vp(vp).shared
      const msr = Number(regs.rcx & U32)
      if (exit.reason === VmxExitBasic.MSR_READ) {
        return { kind: 'instruction', instruction: 'rdmsr', outcome: executeRdmsr(engine, vp, msr) }
      }
      const value = ((regs.rdx & U32) << 32n) | (regs.rax & U32)
      return {
        kind: 'instruction',
        instruction: 'wrmsr',
        outcome: executeWrmsr(engine, vp, msr, value),
      }
    }
    case VmxExitBasic.XSETBV:
      return { kind: 'instruction', instruction: 'xsetbv', outcome: executeXsetbv(engine, vp) }
    default:
      return undefined
  }
}
