import type { SharedRegisters } from '@vtl/core'
import { X86Reg } from '../unicorn/constants.js'
import type { VtlContext } from './vtl-context.js'

/**
 * The registers both VTLs share (§6.4) that the CPU holds: `@vtl/core`'s shared bank less XCR0
 * (Unicorn keeps no XSAVE state). A backing copies them between the bank and the CPU on every
 * entry and exit.
 */
export type X86SharedState = Omit<SharedRegisters, 'xfem'>

/**
 * A VTL's private registers the CPU holds as plain values (named as the core's private bank
 * does). Segment registers and descriptor tables stay in the VTL's context: the CPU loads a
 * segment from the VTL's own GDT when its selector is written (`engine.writeSelector`).
 */
export interface X86PrivateState {
  rip: bigint
  rsp: bigint
  rflags: bigint
  cr0: bigint
  cr3: bigint
  cr4: bigint
  cr8: bigint
  efer: bigint
  dr7: bigint
}

const SHARED: readonly (readonly [keyof X86SharedState, number])[] = [
  ['rax', X86Reg.RAX],
  ['rcx', X86Reg.RCX],
  ['rdx', X86Reg.RDX],
  ['rbx', X86Reg.RBX],
  ['rbp', X86Reg.RBP],
  ['rsi', X86Reg.RSI],
  ['rdi', X86Reg.RDI],
  ['r8', X86Reg.R8],
  ['r9', X86Reg.R9],
  ['r10', X86Reg.R10],
  ['r11', X86Reg.R11],
  ['r12', X86Reg.R12],
  ['r13', X86Reg.R13],
  ['r14', X86Reg.R14],
  ['r15', X86Reg.R15],
  ['cr2', X86Reg.CR2],
  ['dr0', X86Reg.DR0],
  ['dr1', X86Reg.DR0 + 1],
  ['dr2', X86Reg.DR0 + 2],
  ['dr3', X86Reg.DR0 + 3],
  ['dr6', X86Reg.DR0 + 6],
]

/** The names of the shared registers the CPU holds (`X86SharedState`'s keys). */
export const SHARED_STATE_NAMES: readonly (keyof X86SharedState)[] = SHARED.map(([name]) => name)

const PRIVATE: readonly (readonly [Exclude<keyof X86PrivateState, 'efer'>, number])[] = [
  ['rip', X86Reg.RIP],
  ['rsp', X86Reg.RSP],
  ['rflags', X86Reg.RFLAGS],
  ['cr0', X86Reg.CR0],
  ['cr3', X86Reg.CR3],
  ['cr4', X86Reg.CR4],
  ['cr8', X86Reg.CR8],
  ['dr7', X86Reg.DR7],
]

const MSR_EFER = 0xc000_0080

export function readSharedState(context: VtlContext): X86SharedState {
  const values = context.engine.readRegs(SHARED.map(([, id]) => id))
  const state = {} as X86SharedState
  SHARED.forEach(([name], i) => {
    state[name] = values[i] ?? 0n
  })
  return state
}

export function writeSharedState(context: VtlContext, state: Partial<X86SharedState>): void {
  const set = SHARED.filter(([name]) => state[name] !== undefined)
  if (set.length === 0) return
  context.engine.writeRegs(
    set.map(([, id]) => id),
    set.map(([name]) => state[name] ?? 0n)
  )
}

export function readPrivateState(context: VtlContext): X86PrivateState {
  const values = context.engine.readRegs(PRIVATE.map(([, id]) => id))
  const state = { efer: context.readMsr(MSR_EFER) } as X86PrivateState
  PRIVATE.forEach(([name], i) => {
    state[name] = values[i] ?? 0n
  })
  return state
}

/**
 * Writes some private registers. Control registers go first (CR4, CR3, CR0: the order that
 * enables paging), RIP/RSP/RFLAGS last; EFER through its MSR.
 */
export function writePrivateState(context: VtlContext, state: Partial<X86PrivateState>): void {
  if (state.efer !== undefined) context.writeMsr(MSR_EFER, state.efer)
  for (const name of ['cr4', 'cr3', 'cr0', 'cr8', 'dr7', 'rflags', 'rsp', 'rip'] as const) {
    const value = state[name]
    const id = PRIVATE.find(([n]) => n === name)?.[1]
    if (value !== undefined && id !== undefined) context.engine.writeReg(id, value)
  }
}
