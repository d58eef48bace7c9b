import {
  HV_PARTITION_ID_SELF,
  HV_VP_INDEX_SELF,
  HypercallCode,
  classifyGpa,
  deliverGpaIntercept,
  dispatchHypercall,
  encodeGetVpRegisters,
  encodeHypercallControl,
  encodeSetVpRegisters,
  endOfInterrupt,
  assertInterrupt,
  exitToParavisor,
  hvInputVtlFor,
  hvStatusName,
  prepareEntry,
  type GuestVtl,
  type HypercallOutcome,
} from '@vtl/core'
import type { GuestVpState, SimTd } from '../td/sim-td.js'
import { checkAccess, type AccessKind, type PageFacts } from './access.js'
import type { GuestAction, StepResult } from '../scenario/types.js'

const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  6: 'UD',
  8: 'DF',
  13: 'GP',
  14: 'PF',
  18: 'MC',
}
const MACHINE_CHECK = 18
/** Where the guest's hypercall input and output pages sit (only their alignment matters). */
const INPUT_GPA = 0x0n
const OUTPUT_GPA = 0x1000n

export function hex(value: bigint): string {
  return `0x${value.toString(16)}`
}

function bytesHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')
}

/** What one step did: the VTL the VP acted at and the result in report form. */
export interface StepOutcome {
  vtl: GuestVtl
  result: StepResult
}

/**
 * The paravisor's side of a lower-VTL entry (§6.4): handle the VP's wakes and interrupts, pick
 * the VTL, count a VTL switch when it changed, and publish the active VTL.
 */
export function enterGuest(td: SimTd, vp: number): GuestVtl {
  const plan = prepareEntry(td.engine, vp)
  const before = td.enteredVtl[vp] as GuestVtl
  if (plan.vtl !== before) {
    td.enteredVtl[vp] = plan.vtl
    td.trace.emit(vp, 'vtl-switch', `VTL${before}→VTL${plan.vtl}`)
  }
  return plan.vtl
}

/** Whether the VP's active VTL can run: `undefined` if it can, else the report's error. */
export function runnable(td: SimTd, vp: number): 'VpNotRunning' | 'VpBlocked' | undefined {
  const state = td.engine.vp(vp)
  if (td.guestVp(vp).blocked !== undefined) return 'VpBlocked'
  const activity = state.vtls[state.exitVtl].apic.activity
  if (activity === 'wait-for-sipi') return 'VpNotRunning'
  if (activity === 'halted') return 'VpBlocked'
  return undefined
}

/**
 * One guest step on `vp`: the VP first handles its pending wakes (as a VP does before it
 * re-enters its guest), retries a blocked hypercall, then performs `action` at its active VTL;
 * the result carries `activeVtl` after the re-entry that follows.
 */
export function performStep(td: SimTd, vp: number, action: GuestAction): StepOutcome {
  td.currentVp = vp
  td.trace.emit(vp, 'step', action.kind)
  if (action.kind === 'fault') {
    td.faults.arm(action)
    return { vtl: td.engine.vp(vp).exitVtl, result: { activeVtl: td.engine.vp(vp).exitVtl } }
  }
  let vtl = enterGuest(td, vp)
  const guest = td.guestVp(vp)
  let resumed: string | undefined
  if (guest.blocked !== undefined) {
    const { control, input, fast } = guest.blocked
    const outcome = dispatch(td, vp, control, input, fast)
    if (outcome.kind === 'retry') {
      guest.blocked.control = outcome.control
    } else {
      guest.blocked = undefined
      resumed =
        outcome.kind === 'completed'
          ? (hvStatusName(outcome.status) ?? `${outcome.status}`)
          : outcome.kind
      vtl = enterGuest(td, vp)
    }
  }
  const error = runnable(td, vp)
  if (error !== undefined) return { vtl, result: { error, activeVtl: vtl } }
  guest.exception = undefined
  const result = act(td, vp, vtl, action)
  if (resumed !== undefined) result.resumed = resumed
  exitToParavisor(td.engine, vp)
  const after = enterGuest(td, vp)
  const injected = takeException(guest)
  if (injected !== undefined && result.exception === undefined) {
    result.exception = EXCEPTION_NAMES[injected] ?? injected
  }
  result.activeVtl = after
  return { vtl, result }
}

/** The exception the paravisor injected during the step (the VpPort records it), cleared. */
function takeException(guest: GuestVpState): number | undefined {
  const vector = guest.exception
  guest.exception = undefined
  return vector
}

function dispatch(
  td: SimTd,
  vp: number,
  control: bigint,
  input: Uint8Array,
  fast: boolean
): HypercallOutcome {
  if (!fast) {
    return dispatchHypercall(td.engine, {
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
  return dispatchHypercall(td.engine, { vp, control: control | (1n << 16n), fastRegisters })
}

function control(code: number, repCount: number, repStart = 0, varHeaderSize = 0): bigint {
  return encodeHypercallControl({
    code,
    fast: false,
    variableHeaderSize: varHeaderSize,
    nested: false,
    repCount,
    repStart,
  })
}

function hypercallResult(
  td: SimTd,
  vp: number,
  outcome: HypercallOutcome,
  rep: boolean,
  hasOutput: boolean,
  blocked: { control: bigint; input: Uint8Array; fast: boolean }
): StepResult {
  switch (outcome.kind) {
    case 'completed': {
      const result: StepResult = {
        status: hvStatusName(outcome.status) ?? `0x${outcome.status.toString(16)}`,
        code: outcome.status,
      }
      if (rep) result.repsCompleted = outcome.repsCompleted
      if (hasOutput && outcome.output !== undefined) result.output = bytesHex(outcome.output)
      return result
    }
    case 'exception':
      return { exception: EXCEPTION_NAMES[outcome.vector] ?? outcome.vector }
    case 'retry':
      // The call waits (TLB lock): the VP halts until it can complete (VpBlocked meanwhile).
      td.guestVp(vp).blocked = { ...blocked, control: outcome.control }
      return { blocked: true }
    case 'vtl-switch':
      return {}
  }
}

function act(td: SimTd, vp: number, vtl: GuestVtl, action: GuestAction): StepResult {
  const { engine } = td
  switch (action.kind) {
    case 'hypercall': {
      const call = action.call
      if (call.kind === 'typed') {
        const word = control(call.code, call.repCount)
        const outcome = dispatch(td, vp, word, call.input, false)
        return hypercallResult(td, vp, outcome, call.rep, call.hasOutput, {
          control: word,
          input: call.input,
          fast: false,
        })
      }
      const word = control(call.code, call.repCount, call.repStart, call.varHeaderSize)
      const outcome = dispatch(td, vp, word, call.input, call.fast)
      return hypercallResult(td, vp, outcome, call.repCount > 0, true, {
        control: word,
        input: call.input,
        fast: call.fast,
      })
    }
    case 'vtlCall':
    case 'vtlReturn': {
      const code = action.kind === 'vtlCall' ? HypercallCode.VtlCall : HypercallCode.VtlReturn
      const input = action.kind === 'vtlCall' ? action.input : action.fast ? 1n : 0n
      const outcome = dispatchHypercall(engine, { vp, control: BigInt(code), vtlInput: input })
      if (outcome.kind === 'exception') {
        return { exception: EXCEPTION_NAMES[outcome.vector] ?? outcome.vector }
      }
      return {}
    }
    case 'read':
    case 'write':
    case 'execute':
      return access(td, vp, vtl, action)
    case 'setRegister':
    case 'getRegister': {
      const header = {
        partitionId: HV_PARTITION_ID_SELF,
        vpIndex: HV_VP_INDEX_SELF,
        targetVtl: action.targetVtl === undefined ? 0 : hvInputVtlFor(action.targetVtl),
      }
      if (action.kind === 'setRegister') {
        const input = encodeSetVpRegisters(header, [{ name: action.name, value: action.value }])
        const outcome = dispatch(td, vp, control(HypercallCode.SetVpRegisters, 1), input, false)
        const result = hypercallResult(td, vp, outcome, false, false, {
          control: control(HypercallCode.SetVpRegisters, 1),
          input,
          fast: false,
        })
        return result
      }
      const input = encodeGetVpRegisters(header, [action.name])
      const outcome = dispatch(td, vp, control(HypercallCode.GetVpRegisters, 1), input, false)
      const result = hypercallResult(td, vp, outcome, false, false, {
        control: control(HypercallCode.GetVpRegisters, 1),
        input,
        fast: false,
      })
      if (
        outcome.kind === 'completed' &&
        outcome.repsCompleted === 1 &&
        outcome.output !== undefined
      ) {
        const view = new DataView(outcome.output.buffer, outcome.output.byteOffset, 16)
        result.value = hex(view.getBigUint64(0, true))
      }
      return result
    }
    case 'interrupt':
      assertInterrupt(engine, vp, action.vtl, action.vector)
      return {}
    case 'eoi':
      endOfInterrupt(engine, vp, vtl)
      return {}
    case 'run':
    case 'fault':
      return {}
  }
}

/** A memory access by the guest at its active VTL, under the hardware's rules. */
function access(
  td: SimTd,
  vp: number,
  vtl: GuestVtl,
  action: Extract<GuestAction, { kind: 'read' | 'write' | 'execute' }>
): StepResult {
  const { canonical, shared } = classifyGpa(action.gpa, td.gpaWidth)
  const mode = action.kind === 'execute' ? action.mode : 'kernel'
  const kind: AccessKind = action.kind
  const lastByte = canonical + BigInt(action.size - 1)
  for (const gpn of new Set([canonical >> 12n, lastByte >> 12n])) {
    const verdict = checkAccess(pageFacts(td, gpn), shared, vtl, kind, mode, td.mbecCapable)
    if (verdict.kind === 'ok') continue
    const gpa = gpn === canonical >> 12n ? canonical : gpn << 12n
    if (verdict.kind === 'machine-check') {
      td.engine.ports.vp.injectException(vp, vtl, { vector: MACHINE_CHECK })
      return { ok: false, exception: 'MC' }
    }
    const outcome = deliverGpaIntercept(td.engine, vp, {
      gpa,
      access: kind,
      readable: verdict.readable,
      instructionLength: 3,
    })
    if (outcome.spurious) return { ok: false, spurious: true }
    if (outcome.status !== 0) {
      return { ok: false, interceptStatus: hvStatusName(outcome.status) ?? outcome.status }
    }
    td.trace.emit(vp, 'intercept', `GPA ${kind === 'write' ? 'write' : 'read'}`, hex(gpa))
    return {
      ok: false,
      intercept: { toVtl: 1, accessType: kind === 'write' ? 'write' : 'read', gpa: hex(gpa) },
    }
  }
  if (action.kind === 'write') {
    td.contents.write(canonical, action.size, action.value)
    return { ok: true }
  }
  if (action.kind === 'read')
    return { ok: true, value: hex(td.contents.read(canonical, action.size)) }
  return { ok: true }
}

function pageFacts(td: SimTd, gpn: bigint): PageFacts {
  if (gpn << 12n >= td.memoryBytes)
    return { ram: false, shared: false, accepted: false, vm1: 0, vm2: 0 }
  const state = td.space.stateOf(gpn << 12n)
  const attr = td.platform.pageAttr(gpn)
  return {
    ram: state.kind === 'ram',
    shared: state.shared,
    accepted: attr.accepted,
    vm1: attr.vm1,
    vm2: attr.vm2,
  }
}
