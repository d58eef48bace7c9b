import {
  VmxExitBasic,
  formatHex,
  hvStatusName,
  IN_OUT_LENGTH,
  MOV_CR_LENGTH,
  RDMSR_WRMSR_LENGTH,
  type InstructionOutcome,
} from '@vtl/core'
import type { GuestAction, StepResult } from '../scenario/types.js'
import type { VpEnterExit } from '../tdx-module/types.js'
import type { TraceArg } from '../trace/trace.js'
import type { GuestGprs } from './guest-exit.js'

/** The guest actions that execute an intercept-capable instruction (§13.16). */
export type InstructionAction = Extract<GuestAction, { kind: 'io' | 'writeCr' | 'msr' }>

const U32 = 0xffff_ffffn

/**
 * The scripted guest executes the instruction: it loads the registers the instruction uses (DX =
 * port and AL/AX/EAX for OUT; RAX as MOV to CR's source; ECX = MSR and EDX:EAX for WRMSR) and
 * takes the L2 exit the hardware reports for it: IO (size − 1 in 2:0, IN in bit 3, port in
 * 31:16), CR_ACCESS (CR in 3:0, MOV to CR from RAX) or MSR_READ/MSR_WRITE, with the instruction
 * length in the info's upper half.
 */
export function instructionExit(action: InstructionAction, regs: GuestGprs): VpEnterExit {
  switch (action.kind) {
    case 'io':
      regs.rdx = (regs.rdx & ~0xffffn) | BigInt(action.port)
      if (action.write) {
        const mask = (1n << BigInt(action.size * 8)) - 1n
        regs.rax = (regs.rax & ~mask) | (action.value & mask)
      }
      return {
        exitReason: VmxExitBasic.IO,
        exitQualification:
          BigInt(action.size - 1) | (action.write ? 0n : 8n) | (BigInt(action.port) << 16n),
        instructionInfo: BigInt(IN_OUT_LENGTH[action.size]) << 32n,
      }
    case 'writeCr':
      regs.rax = action.value
      return {
        exitReason: VmxExitBasic.CR_ACCESS,
        exitQualification: BigInt(action.cr),
        instructionInfo: BigInt(MOV_CR_LENGTH) << 32n,
      }
    case 'msr':
      regs.rcx = BigInt(action.msr)
      if (action.value !== undefined) {
        regs.rax = action.value & U32
        regs.rdx = action.value >> 32n
      }
      return {
        exitReason: action.value === undefined ? VmxExitBasic.MSR_READ : VmxExitBasic.MSR_WRITE,
        instructionInfo: BigInt(RDMSR_WRMSR_LENGTH) << 32n,
      }
  }
}

/** The intercept a step reports (scenario-format.md `intercept`, less `toVtl`). */
export function interceptFields(action: InstructionAction): Record<string, TraceArg> {
  switch (action.kind) {
    case 'io':
      return { kind: 'io', port: action.port, accessType: action.write ? 'write' : 'read' }
    case 'writeCr':
      return {
        kind: 'register',
        register: action.cr === 0 ? 'Cr0' : 'Cr4',
        value: formatHex(action.value),
      }
    case 'msr':
      return { kind: 'msr', msr: formatHex(BigInt(action.msr)), accessType: 'write' }
  }
}

/** The trace name of an intercepted instruction. */
export function interceptName(action: InstructionAction): string {
  if (action.kind === 'io') return `IO ${action.write ? 'OUT' : 'IN'} 0x${action.port.toString(16)}`
  if (action.kind === 'writeCr') return `MOV CR${action.cr}`
  return `WRMSR 0x${action.msr.toString(16)}`
}

/**
 * An instruction exit's outcome in report form: performed (`ok`, IN/RDMSR's `value`), #GP (`ok:
 * false`; the step adds the injected `exception`), intercepted for VTL1 (`intercept`, the
 * instruction not performed and RIP still on it), or an intercept that could not be posted
 * (`interceptStatus`, as for GPA intercepts).
 */
export function instructionResult(
  action: InstructionAction,
  outcome: InstructionOutcome
): StepResult {
  switch (outcome.kind) {
    case 'performed':
      return outcome.value === undefined
        ? { ok: true }
        : { ok: true, value: formatHex(outcome.value) }
    case 'exception':
      return { ok: false }
    case 'intercepted':
      if (outcome.status !== 0) {
        return { ok: false, interceptStatus: hvStatusName(outcome.status) ?? outcome.status }
      }
      return { ok: false, intercept: { toVtl: 1, ...interceptFields(action) } }
  }
}

export function isInstructionAction(action: GuestAction | undefined): action is InstructionAction {
  const kind = action?.kind
  return kind === 'io' || kind === 'writeCr' || kind === 'msr'
}
