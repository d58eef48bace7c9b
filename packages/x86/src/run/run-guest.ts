import { VtlError, type GuestVtl } from '@vtl/core'
import type { VtlContext } from '../cpu/vtl-context.js'
import type { X86Exit } from '../cpu/x86-exit.js'
import type { X86Vp } from '../cpu/x86-vp.js'
import { DebugPorts } from './debug-ports.js'

/** The scenario action `run`'s default budget. */
export const DEFAULT_MAX_INSTRUCTIONS = 10_000_000

type VmcallExit = Extract<X86Exit, { kind: 'vmcall' }>

/**
 * What the caller does with a VMCALL (the paravisor's job): complete it on `context` (write RAX,
 * `skip`), then say which VTL runs next, or stop the run and hand the exit back.
 */
export type VmcallHandler = (
  exit: VmcallExit,
  context: VtlContext,
  vp: X86Vp
) => { next?: GuestVtl; stop?: boolean } | undefined

export interface RunGuestOptions {
  maxInstructions?: number
  /** The VTL to enter first (default: the VP's active VTL). */
  vtl?: GuestVtl
  onVmcall?: VmcallHandler
  /** Console and exit code of this VP, kept across runs. */
  ports?: DebugPorts
}

export interface X86RunResult {
  activeVtl: GuestVtl
  /** Text written to port 0xE9 during this run. */
  console: string
  exitCode?: number
  halted: boolean
  instructions: number
  error?: 'TripleFault' | 'InstructionLimit'
  /** An exit this runner does not handle (EPT violation, unhandled VMCALL, string I/O). */
  exit?: X86Exit
}

/**
 * The `run` action on one VP: enters its VTLs until an exit-code write, a HLT, the instruction
 * limit, a triple fault, or an exit it leaves to the caller. Debug ports and unclaimed ports are
 * answered here; CPUID, MSR and CR exits run as the CPU would (nothing intercepts them).
 */
export function runGuest(vp: X86Vp, options: RunGuestOptions = {}): X86RunResult {
  const max = options.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS
  if (!Number.isSafeInteger(max) || max < 0) {
    throw new VtlError('E_FIELD_RANGE', `maxInstructions ${max} is not a count`, {
      field: 'maxInstructions',
    })
  }
  const ports = options.ports ?? new DebugPorts()
  const consoleStart = ports.console.length
  const start = vp.retired
  let vtl = options.vtl ?? vp.activeVtl
  const result = (rest: Partial<X86RunResult>): X86RunResult => ({
    activeVtl: vtl,
    console: ports.console.slice(consoleStart),
    halted: false,
    instructions: vp.retired - start,
    ...rest,
  })
  for (;;) {
    const { exit } = vp.enter(vtl, Math.max(0, max - (vp.retired - start)))
    const context = vp.context(vtl)
    switch (exit.kind) {
      case 'instruction-limit':
        return result({ error: 'InstructionLimit' })
      case 'triple-fault':
        return result({ error: 'TripleFault' })
      case 'hlt':
        context.skip(exit)
        return result({ halted: true })
      case 'io':
        if (!ports.handle(context, exit)) return result({ exit })
        if (ports.exitCode !== undefined) {
          const exitCode = ports.exitCode
          ports.exitCode = undefined
          return result({ exitCode })
        }
        break
      case 'cpuid':
      case 'rdmsr':
      case 'wrmsr':
      case 'cr-write':
        context.executeNatively(exit)
        break
      case 'vmcall': {
        const answer = options.onVmcall?.(exit, context, vp)
        if (answer === undefined || answer.stop === true) return result({ exit })
        vtl = answer.next ?? vtl
        break
      }
      case 'ept-violation':
        return result({ exit })
    }
  }
}
