import {
  VmxExitBasic,
  executeIo,
  executeMovToCr,
  executeRdmsr,
  executeWrmsr,
  hvStatusName,
  IN_OUT_LENGTH,
  MOV_CR_LENGTH,
  RDMSR_WRMSR_LENGTH,
  type InstructionOutcome,
  type VsmEngine,
} from '@vtl/core'
import type { GuestAction, StepResult } from '../scenario/types.js'
import type { SimTd } from '../td/sim-td.js'
import type { VpEnterExit } from '../tdx-module/types.js'
import type { TraceArg } from '../trace/trace.js'
import { hex } from './guest-hypercall.js'

/** The guest actions that execute an intercept-capable instruction (§13.16). */
export type InstructionAction = Extract<GuestAction, { kind: 'io' | 'writeCr' | 'msr' }>

const U32 = 0xffff_ffffn

/**
 * The L2 exit the instruction takes, as the hardware reports it: IO (qualification: size − 1 in
 * 2:0, IN in bit 3, port in 31:16), CR_ACCESS (CR number in 3:0, MOV to CR, source RAX) or
 * MSR_READ/MSR_WRITE; the instruction length in the info's upper half.
 */
export function instructionExit(action: InstructionAction): VpEnterExit {
  switch (action.kind) {
    case 'io':
      return {
        exitReason: VmxExitBasic.IO,
        exitQualification:
          BigInt(action.size - 1) | (action.write ? 0n : 8n) | (BigInt(action.port) << 16n),
        instructionInfo: BigInt(IN_OUT_LENGTH[action.size]) << 32n,
      }
    case 'writeCr':
      return {
        exitReason: VmxExitBasic.CR_ACCESS,
        exitQualification: BigInt(action.cr),
        instructionInfo: BigInt(MOV_CR_LENGTH) << 32n,
      }
    case 'msr':
      return {
        exitReason: action.value === undefined ? VmxExitBasic.MSR_READ : VmxExitBasic.MSR_WRITE,
        instructionInfo: BigInt(RDMSR_WRMSR_LENGTH) << 32n,
      }
  }
}

/** What the paravisor made of an instruction exit: the step's result and, if one was posted, the intercept. */
export interface InstructionResult {
  result: StepResult
  /** The intercept delivered to VTL1 (also in `result.intercept`). */
  intercept: Record<string, TraceArg> | undefined
}

/**
 * The paravisor handles the instruction exit of one step, on the simulator and on the hardware
 * path's test TD alike: the guest's registers hold what the instruction uses (DX = port and
 * AL/AX/EAX for OUT; RAX = the source of MOV to CR; ECX = MSR and EDX:EAX for WRMSR), then the
 * engine intercepts it for VTL1 or performs it. An intercepted instruction is not performed and
 * RIP stays; a #GP is reported as `exception` by the step; an intercept that could not be posted
 * as `interceptStatus`.
 */
export function handleInstruction(
  engine: VsmEngine,
  vp: number,
  action: InstructionAction
): InstructionResult {
  const regs = engine.vp(vp).shared
  let outcome: InstructionOutcome
  let intercept: Record<string, TraceArg>
  switch (action.kind) {
    case 'io': {
      regs.rdx = (regs.rdx & ~0xffffn) | BigInt(action.port)
      if (action.write) {
        const mask = (1n << BigInt(action.size * 8)) - 1n
        regs.rax = (regs.rax & ~mask) | action.value
      }
      outcome = executeIo(engine, vp, action)
      intercept = { kind: 'io', port: action.port, accessType: action.write ? 'write' : 'read' }
      break
    }
    case 'writeCr':
      regs.rax = action.value
      outcome = executeMovToCr(engine, vp, action.cr, action.value)
      intercept = {
        kind: 'register',
        register: action.cr === 0 ? 'Cr0' : 'Cr4',
        value: hex(action.value),
      }
      break
    case 'msr':
      regs.rcx = BigInt(action.msr)
      if (action.value === undefined) {
        outcome = executeRdmsr(engine, vp, action.msr)
      } else {
        regs.rax = action.value & U32
        regs.rdx = action.value >> 32n
        outcome = executeWrmsr(engine, vp, action.msr, action.value)
      }
      intercept = { kind: 'msr', msr: hex(BigInt(action.msr)), accessType: 'write' }
      break
  }
  if (outcome.kind === 'performed') {
    const result =
      outcome.value === undefined ? { ok: true } : { ok: true, value: hex(outcome.value) }
    return { result, intercept: undefined }
  }
  if (outcome.kind === 'exception') return { result: { ok: false }, intercept: undefined }
  if (outcome.status !== 0) {
    const status = hvStatusName(outcome.status) ?? outcome.status
    return { result: { ok: false, interceptStatus: status }, intercept: undefined }
  }
  return { result: { ok: false, intercept: { toVtl: 1, ...intercept } }, intercept }
}

/** `handleInstruction` on the simulated TD, with the intercept's cost and trace event. */
export function performInstruction(td: SimTd, vp: number, action: InstructionAction): StepResult {
  const { result, intercept } = handleInstruction(td.engine, vp, action)
  if (intercept === undefined) return result
  const at = td.tick(vp, td.cost.interrupt)
  if (td.traceEvents) {
    td.trace.record({
      kind: 'intercept',
      vp,
      vtl: 1,
      simCycles: at,
      name: interceptName(action),
      args: intercept,
    })
  }
  return result
}

function interceptName(action: InstructionAction): string {
  if (action.kind === 'io') return `IO ${action.write ? 'OUT' : 'IN'} 0x${action.port.toString(16)}`
  if (action.kind === 'writeCr') return `MOV CR${action.cr}`
  return `WRMSR 0x${action.msr.toString(16)}`
}
