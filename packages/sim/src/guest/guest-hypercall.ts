import {
  HV_PARTITION_ID_SELF,
  HV_VP_INDEX_SELF,
  HypercallCode,
  decodeHypercallControl,
  dispatchHypercall,
  encodeGetVpRegisters,
  encodeHypercallControl,
  encodeSetVpRegisters,
  hvInputVtlFor,
  hvStatusName,
  hypercallName,
  type GuestVtl,
  type HypercallOutcome,
  type VsmEngine,
} from '@vtl/core'
import { bytesToHex } from '../hypervisor/untrusted-hypervisor.js'
import type { Trace } from '../trace/trace.js'
import type { GuestAction, StepResult } from '../scenario/types.js'

/** Exception vectors by the names reports use. */
export const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  6: 'UD',
  8: 'DF',
  13: 'GP',
  14: 'PF',
  18: 'MC',
}

/** Where the guest's hypercall input and output pages sit (only their alignment matters). */
const INPUT_GPA = 0x0n
const OUTPUT_GPA = 0x1000n

export function hex(value: bigint): string {
  return `0x${value.toString(16)}`
}

/** The guest actions that exit with VMCALL. */
export type HypercallAction = Extract<
  GuestAction,
  { kind: 'hypercall' | 'vtlCall' | 'vtlReturn' | 'setRegister' | 'getRegister' }
>

/** A call the engine asked the guest to retry (it waits on a TLB lock), as it would reissue it. */
export interface HypercallRetry {
  control: bigint
  input: Uint8Array
  fast: boolean
}

/** Where the paravisor's hypercall exit records the guest's call (a host without a trace passes none). */
export interface HypercallTracer {
  trace: Trace
  /** The VP's simulated cycle count when the VMCALL exited. */
  exitCycles: number
  /** The VP's simulated cycle count now (read when the call completes). */
  now: () => number
}

/**
 * How a host hears of a guest hypercall's exit: `waiting.blocked` receives a call that must wait
 * (a field, not a callback: no closure per step on the simulator's hot path), and the trace.
 */
export interface HypercallExitHooks {
  waiting?: { blocked: HypercallRetry | undefined }
  tracer?: HypercallTracer | undefined
}

/**
 * Records one guest hypercall as its caller sees it: the HvStatus of a completed call (with its
 * rep count and reps completed for a rep call), `#UD`/`#GP` for one that faulted, `Success` for a
 * VTL call or return that switched. A call that must wait is recorded when it completes.
 */
export function traceGuestHypercall(
  tracer: HypercallTracer,
  vp: number,
  callerVtl: GuestVtl,
  control: bigint,
  outcome: HypercallOutcome
): void {
  if (outcome.kind === 'retry') return
  const { code, repCount } = decodeHypercallControl(control)
  const args: { repCount?: number; repsCompleted?: number } = {}
  let status: string
  switch (outcome.kind) {
    case 'completed':
      status = hvStatusName(outcome.status) ?? hex(BigInt(outcome.status))
      if (repCount > 0) {
        args.repCount = repCount
        args.repsCompleted = outcome.repsCompleted
      }
      break
    case 'exception':
      status = `#${EXCEPTION_NAMES[outcome.vector] ?? outcome.vector}`
      break
    case 'vtl-switch':
      status = 'Success'
      break
  }
  tracer.trace.hypercall(vp, callerVtl, tracer.exitCycles, {
    code,
    name: hypercallName(code) ?? hex(BigInt(code)),
    status,
    ...args,
    durCycles: tracer.now() - tracer.exitCycles,
  })
}

export function hypercallControl(
  code: number,
  repCount: number,
  repStart = 0,
  varHeaderSize = 0
): bigint {
  return encodeHypercallControl({
    code,
    fast: false,
    variableHeaderSize: varHeaderSize,
    nested: false,
    repCount,
    repStart,
  })
}

/** The paravisor's dispatch of a guest hypercall: input from memory, or RDX/R8/XMM for fast. */
export function dispatchGuestHypercall(
  engine: VsmEngine,
  vp: number,
  control: bigint,
  input: Uint8Array,
  fast: boolean
): HypercallOutcome {
  if (!fast) {
    return dispatchHypercall(engine, {
      vp,
      control,
      inputGpa: INPUT_GPA,
      outputGpa: OUTPUT_GPA,
      input,
    })
  }
  // A fast call passes the input in RDX, R8, then XMM0.. as u64 pairs.
  const padded = new Uint8Array(Math.ceil(input.length / 8) * 8)
  padded.set(input)
  const view = new DataView(padded.buffer)
  const fastRegisters: bigint[] = []
  for (let i = 0; i < padded.length; i += 8) fastRegisters.push(view.getBigUint64(i, true))
  return dispatchHypercall(engine, { vp, control: control | (1n << 16n), fastRegisters })
}

function stepResult(
  outcome: HypercallOutcome,
  rep: boolean,
  hasOutput: boolean,
  retry: HypercallRetry,
  waiting: HypercallExitHooks['waiting']
): StepResult {
  switch (outcome.kind) {
    case 'completed': {
      const result: StepResult = {
        status: hvStatusName(outcome.status) ?? hex(BigInt(outcome.status)),
        code: outcome.status,
      }
      if (rep) result.repsCompleted = outcome.repsCompleted
      if (hasOutput && outcome.output !== undefined) result.output = bytesToHex(outcome.output)
      return result
    }
    case 'exception':
      return { exception: EXCEPTION_NAMES[outcome.vector] ?? outcome.vector }
    case 'retry':
      if (waiting !== undefined) waiting.blocked = { ...retry, control: outcome.control }
      return { blocked: true }
    case 'vtl-switch':
      return {}
  }
}

/**
 * Handles a guest action's VMCALL exit the way a paravisor does, on any host (the simulated TD,
 * or the hardware path over a kernel): builds the control word and input page the guest would
 * have, dispatches it, records it in the trace as the guest sees it, and reports it in scenario
 * form. `hooks.waiting` receives a call that must wait.
 */
export function performHypercall(
  engine: VsmEngine,
  vp: number,
  action: HypercallAction,
  hooks: HypercallExitHooks = {}
): StepResult {
  const { waiting, tracer } = hooks
  const callerVtl = engine.vp(vp).exitVtl
  switch (action.kind) {
    case 'hypercall': {
      const call = action.call
      const control =
        call.kind === 'typed'
          ? hypercallControl(call.code, call.repCount)
          : hypercallControl(call.code, call.repCount, call.repStart, call.varHeaderSize)
      const fast = call.kind === 'raw' && call.fast
      const outcome = dispatchGuestHypercall(engine, vp, control, call.input, fast)
      if (tracer !== undefined) traceGuestHypercall(tracer, vp, callerVtl, control, outcome)
      const rep = call.kind === 'typed' ? call.rep : call.repCount > 0
      const output = call.kind === 'typed' ? call.hasOutput : true
      return stepResult(outcome, rep, output, { control, input: call.input, fast }, waiting)
    }
    case 'vtlCall':
    case 'vtlReturn': {
      const call = action.kind === 'vtlCall'
      const control = BigInt(call ? HypercallCode.VtlCall : HypercallCode.VtlReturn)
      const outcome = dispatchHypercall(engine, {
        vp,
        control,
        vtlInput: call ? action.input : action.fast ? 1n : 0n,
      })
      if (tracer !== undefined) traceGuestHypercall(tracer, vp, callerVtl, control, outcome)
      return outcome.kind === 'exception'
        ? { exception: EXCEPTION_NAMES[outcome.vector] ?? outcome.vector }
        : {}
    }
    case 'setRegister':
    case 'getRegister': {
      const header = {
        partitionId: HV_PARTITION_ID_SELF,
        vpIndex: HV_VP_INDEX_SELF,
        targetVtl: action.targetVtl === undefined ? 0 : hvInputVtlFor(action.targetVtl),
      }
      const set = action.kind === 'setRegister'
      const input = set
        ? encodeSetVpRegisters(header, [{ name: action.name, value: action.value }])
        : encodeGetVpRegisters(header, [action.name])
      const code = set ? HypercallCode.SetVpRegisters : HypercallCode.GetVpRegisters
      const control = hypercallControl(code, 1)
      const outcome = dispatchGuestHypercall(engine, vp, control, input, false)
      if (tracer !== undefined) traceGuestHypercall(tracer, vp, callerVtl, control, outcome)
      const result = stepResult(outcome, false, false, { control, input, fast: false }, waiting)
      if (
        !set &&
        outcome.kind === 'completed' &&
        outcome.repsCompleted === 1 &&
        outcome.output !== undefined
      ) {
        const view = new DataView(outcome.output.buffer, outcome.output.byteOffset, 16)
        result.value = hex(view.getBigUint64(0, true))
      }
      return result
    }
  }
}
