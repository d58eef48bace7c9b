import {
  HV_PARTITION_ID_SELF,
  HV_VP_INDEX_SELF,
  HypercallCode,
  VmxExitBasic,
  assertInterrupt,
  classifyGpa,
  deliverGpaIntercept,
  dispatchHypercall,
  encodeGetVpRegisters,
  encodeHypercallControl,
  encodeSetVpRegisters,
  endOfInterrupt,
  exitToParavisor,
  hvInputVtlFor,
  hvStatusName,
  prepareEntry,
  tdxStatusCode,
  tdxStatusName,
  type GuestVtl,
  type HypercallOutcome,
  type L2VmIndex,
  type VsmVp,
} from '@vtl/core'
import type { VpEnterExit } from '../tdx-module/types.js'
import type { GuestVpState, SimTd } from '../td/sim-td.js'
import type { GuestAction, StepResult } from '../scenario/types.js'
import { checkAccess, type AccessKind, type AccessVerdict, type PageFacts } from './access.js'

const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  6: 'UD',
  8: 'DF',
  13: 'GP',
  14: 'PF',
  18: 'MC',
}
const MACHINE_CHECK = 18
/** A VMCALL exit (3-byte instruction); the module copies its fields, so one object serves all. */
const VMCALL_EXIT: VpEnterExit = { exitReason: VmxExitBasic.VMCALL, instructionInfo: 3n << 32n }
const HLT_EXIT: VpEnterExit = { exitReason: VmxExitBasic.HLT }
/** `HvVtlEntryReason` names for the trace. */
const ENTRY_REASONS: readonly string[] = ['reserved', 'VTL_CALL', 'INTERRUPT', 'INTERCEPT']
/** Where the guest's hypercall input and output pages sit (only their alignment matters). */
const INPUT_GPA = 0x0n
const OUTPUT_GPA = 0x1000n
/** EPT-violation exit qualification bits: data read, data write, instruction fetch. */
const QUAL_READ = 1n
const QUAL_WRITE = 2n
const QUAL_FETCH = 4n

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
  const state = td.engine.vp(vp)
  let vtl: GuestVtl
  if (quiet(td, state)) {
    // Nothing pending: prepareEntry would only publish the active VTL.
    vtl = state.exitVtl
    td.engine.shared.setActiveVtl(vp, vtl)
  } else {
    vtl = prepareEntry(td.engine, vp).vtl
  }
  const before = td.enteredVtl[vp] as GuestVtl
  if (vtl !== before) {
    td.enteredVtl[vp] = vtl
    td.vtlSwitch(vp, before, vtl, ENTRY_REASONS[state.vtls[1].control.entryReason] ?? '')
  }
  return vtl
}

/**
 * No wake word, no requested interrupt or NMI in either VTL's APIC and no VTL1 pending event:
 * `prepareEntry` would change nothing but `active_vtl` (its every branch needs one of these).
 */
function quiet(td: SimTd, state: VsmVp): boolean {
  const { shared } = td.engine
  if (shared.wakeReasons(state.index, 0) !== 0 || shared.wakeReasons(state.index, 1) !== 0) {
    return false
  }
  const [vtl0, vtl1] = state.vtls
  if (vtl0.apic.nmiPending || vtl1.apic.nmiPending) return false
  if (vtl0.apic.highestRequested() >= 0 || vtl1.apic.highestRequested() >= 0) return false
  return state.vtl1?.vtl0ExitPendingEvent === undefined
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

/** Binds the guest model to the TD's TDG.VP.ENTER: the runner plays the VP's pending action. */
export function bindGuest(td: SimTd): void {
  td.runner ??= (vp: number, vmIndex: L2VmIndex): VpEnterExit => guestExit(td, vp, vmIndex)
}

/**
 * One guest step on `vp`: the VP first handles its pending wakes (as a VP does before it
 * re-enters its guest), retries a blocked hypercall, then enters its active VTL, where the guest
 * performs `action` and exits; the paravisor handles the exit, and the result carries
 * `activeVtl` after the re-entry that follows.
 */
export function performStep(td: SimTd, vp: number, action: GuestAction): StepOutcome {
  bindGuest(td)
  td.currentVp = vp
  if (td.traceEvents) {
    td.trace.record({
      kind: 'step',
      vp,
      vtl: td.engine.vp(vp).exitVtl,
      simCycles: td.clock.now(vp),
      name: action.kind,
      args: {},
    })
  }
  if (action.kind === 'fault') {
    td.faults.arm({ at: action.at, status: action.status, after: action.after })
    return { vtl: td.engine.vp(vp).exitVtl, result: { activeVtl: td.engine.vp(vp).exitVtl } }
  }
  // The previous step's re-entry already handled this VP's wakes; only another VP's step or a
  // wake since then can have left it something new.
  let vtl = td.settled(vp) ? td.engine.vp(vp).exitVtl : enterGuest(td, vp)
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
  guest.action = action
  guest.readValue = undefined
  const exit = td.vpEnter(vp, vtl)
  guest.action = undefined
  let result: StepResult
  const rax = exit.rax
  // RAX[63:32] (the status) is non-zero exactly when RAX is outside 32 bits.
  if (rax < 0n || rax > 0xffff_ffffn) {
    const enterStatus = tdxStatusCode(rax)
    // TDG.VP.ENTER itself failed (an injected fault): the L2 never ran.
    result = { enterStatus: tdxStatusName(enterStatus) ?? hex(BigInt(enterStatus)) }
  } else {
    td.tick(vp, td.cost.l2Exit)
    result = handleExit(td, vp, vtl, action, Number(rax) & 0xffff, exit.r8, guest)
  }
  if (resumed !== undefined) result.resumed = resumed
  exitToParavisor(td.engine, vp)
  const after = enterGuest(td, vp)
  const injected = takeException(guest)
  if (injected !== undefined && result.exception === undefined) {
    result.exception = EXCEPTION_NAMES[injected] ?? injected
  }
  result.activeVtl = after
  td.settle(vp)
  td.flushClock()
  return { vtl, result }
}

/** The exception the paravisor injected during the step (the VpPort records it), cleared. */
function takeException(guest: GuestVpState): number | undefined {
  const vector = guest.exception
  guest.exception = undefined
  return vector
}

/**
 * The guest inside its L2 VM (the TDG.VP.ENTER callback): hypercalls exit with VMCALL; a memory
 * access the hardware allows completes without an exit (the guest then idles: HLT); one it does
 * not allow exits with an EPT violation carrying the GPA.
 */
function guestExit(td: SimTd, vp: number, vmIndex: L2VmIndex): VpEnterExit {
  const guest = td.guestVp(vp)
  const action = guest.action
  const vtl = (vmIndex - 1) as GuestVtl
  if (action === undefined) return HLT_EXIT
  switch (action.kind) {
    case 'hypercall':
    case 'vtlCall':
    case 'vtlReturn':
    case 'setRegister':
    case 'getRegister':
      return VMCALL_EXIT
    case 'read':
    case 'write':
    case 'execute': {
      const fault = findFault(td, vtl, action)
      if (fault !== undefined) {
        const qualification =
          action.kind === 'read' ? QUAL_READ : action.kind === 'write' ? QUAL_WRITE : QUAL_FETCH
        return {
          exitReason: VmxExitBasic.EPT_VIOLATION,
          gpa: fault.gpa,
          exitQualification: qualification,
        }
      }
      const { canonical } = classifyGpa(action.gpa, td.gpaWidth)
      if (action.kind === 'write') td.contents.write(canonical, action.size, action.value)
      if (action.kind === 'read') guest.readValue = td.contents.read(canonical, action.size)
      return HLT_EXIT
    }
    default:
      return HLT_EXIT
  }
}

/** The first page of an access the hardware refuses, with the rule's verdict. */
function findFault(
  td: SimTd,
  vtl: GuestVtl,
  action: Extract<GuestAction, { kind: 'read' | 'write' | 'execute' }>
): { gpa: bigint; verdict: Exclude<AccessVerdict, { kind: 'ok' }> } | undefined {
  const { canonical, shared } = classifyGpa(action.gpa, td.gpaWidth)
  const mode = action.kind === 'execute' ? action.mode : 'kernel'
  const kind: AccessKind = action.kind
  const first = canonical >> 12n
  const last = (canonical + BigInt(action.size - 1)) >> 12n
  for (let gpn = first; gpn <= last; gpn++) {
    const verdict = checkAccess(pageFacts(td, gpn), shared, vtl, kind, mode, td.mbecCapable)
    if (verdict.kind !== 'ok') {
      const at = gpn === first ? action.gpa : (gpn << 12n) | (action.gpa - canonical)
      return { gpa: at, verdict }
    }
  }
  return undefined
}

function pageFacts(td: SimTd, gpn: bigint): PageFacts {
  if (gpn << 12n >= td.memoryBytes) {
    return { ram: false, shared: false, accepted: false, vm1: 0, vm2: 0 }
  }
  const state = td.space.stateOf(gpn << 12n)
  const attr = td.module.pageAttr(gpn)
  return {
    ram: state.kind === 'ram',
    shared: state.shared,
    accepted: attr.accepted,
    vm1: attr.vm1,
    vm2: attr.vm2,
  }
}

/** The paravisor handles the L2 exit of one step. */
function handleExit(
  td: SimTd,
  vp: number,
  vtl: GuestVtl,
  action: GuestAction,
  exitReason: number,
  exitGpa: bigint,
  guest: GuestVpState
): StepResult {
  const { engine } = td
  switch (action.kind) {
    case 'hypercall':
    case 'vtlCall':
    case 'vtlReturn':
    case 'setRegister':
    case 'getRegister':
      td.tick(vp, td.cost.hypercallHandler)
      return hypercall(td, vp, action)
    case 'read':
    case 'write':
    case 'execute':
      if (exitReason !== VmxExitBasic.EPT_VIOLATION) {
        return action.kind === 'read'
          ? { ok: true, value: hex(guest.readValue ?? 0n) }
          : { ok: true }
      }
      return memoryFault(td, vp, vtl, action, exitGpa)
    case 'interrupt':
      assertInterrupt(engine, vp, action.vtl, action.vector)
      td.tick(vp, td.cost.interrupt)
      return {}
    case 'eoi':
      endOfInterrupt(engine, vp, vtl)
      return {}
    case 'run':
    case 'fault':
      return {}
  }
}

/**
 * `check_mem_fault` (§5.6): a VTL0 access VTL1's protections refuse becomes a GPA intercept on
 * VTL1's SINT0 (READ or WRITE only: a fetch is probed as a read, §13.3); anything else is #MC.
 */
function memoryFault(
  td: SimTd,
  vp: number,
  vtl: GuestVtl,
  action: Extract<GuestAction, { kind: 'read' | 'write' | 'execute' }>,
  exitGpa: bigint
): StepResult {
  const fault = findFault(td, vtl, action)
  if (fault === undefined) return { ok: false, spurious: true }
  if (fault.verdict.kind === 'machine-check') {
    td.engine.ports.vp.injectException(vp, vtl, { vector: MACHINE_CHECK })
    return { ok: false, exception: 'MC' }
  }
  const { canonical } = classifyGpa(exitGpa, td.gpaWidth)
  const outcome = deliverGpaIntercept(td.engine, vp, {
    gpa: canonical,
    access: action.kind,
    readable: fault.verdict.readable,
    instructionLength: 3,
  })
  if (outcome.spurious) return { ok: false, spurious: true }
  if (outcome.status !== 0) {
    return { ok: false, interceptStatus: hvStatusName(outcome.status) ?? outcome.status }
  }
  const accessType = action.kind === 'write' ? 'write' : 'read'
  const at = td.tick(vp, td.cost.interrupt)
  if (td.traceEvents) {
    td.trace.record({
      kind: 'intercept',
      vp,
      vtl: 1,
      simCycles: at,
      name: `GPA ${accessType}`,
      args: { gpa: hex(canonical) },
    })
  }
  return { ok: false, intercept: { toVtl: 1, accessType, gpa: hex(canonical) } }
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

function outcomeResult(
  td: SimTd,
  vp: number,
  outcome: HypercallOutcome,
  rep: boolean,
  hasOutput: boolean,
  retry: { control: bigint; input: Uint8Array; fast: boolean }
): StepResult {
  switch (outcome.kind) {
    case 'completed': {
      const result: StepResult = {
        status: hvStatusName(outcome.status) ?? hex(BigInt(outcome.status)),
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
      td.guestVp(vp).blocked = { ...retry, control: outcome.control }
      return { blocked: true }
    case 'vtl-switch':
      return {}
  }
}

const VTL_CALL = BigInt(HypercallCode.VtlCall)
const VTL_RETURN = BigInt(HypercallCode.VtlReturn)

function hypercall(
  td: SimTd,
  vp: number,
  action: Extract<
    GuestAction,
    { kind: 'hypercall' | 'vtlCall' | 'vtlReturn' | 'setRegister' | 'getRegister' }
  >
): StepResult {
  switch (action.kind) {
    case 'hypercall': {
      const call = action.call
      const word =
        call.kind === 'typed'
          ? control(call.code, call.repCount)
          : control(call.code, call.repCount, call.repStart, call.varHeaderSize)
      const fast = call.kind === 'raw' && call.fast
      const outcome = dispatch(td, vp, word, call.input, fast)
      const rep = call.kind === 'typed' ? call.rep : call.repCount > 0
      const output = call.kind === 'typed' ? call.hasOutput : true
      return outcomeResult(td, vp, outcome, rep, output, { control: word, input: call.input, fast })
    }
    case 'vtlCall':
    case 'vtlReturn': {
      const code = action.kind === 'vtlCall' ? VTL_CALL : VTL_RETURN
      const input = action.kind === 'vtlCall' ? action.input : action.fast ? 1n : 0n
      const outcome = dispatchHypercall(td.engine, { vp, control: code, vtlInput: input })
      if (outcome.kind === 'exception') {
        return { exception: EXCEPTION_NAMES[outcome.vector] ?? outcome.vector }
      }
      return {}
    }
    case 'setRegister':
    case 'getRegister': {
      const header = {
        partitionId: HV_PARTITION_ID_SELF,
        vpIndex: HV_VP_INDEX_SELF,
        targetVtl: action.targetVtl === undefined ? 0 : hvInputVtlFor(action.targetVtl),
      }
      const code =
        action.kind === 'setRegister' ? HypercallCode.SetVpRegisters : HypercallCode.GetVpRegisters
      const input =
        action.kind === 'setRegister'
          ? encodeSetVpRegisters(header, [{ name: action.name, value: action.value }])
          : encodeGetVpRegisters(header, [action.name])
      const word = control(code, 1)
      const outcome = dispatch(td, vp, word, input, false)
      const result = outcomeResult(td, vp, outcome, false, false, {
        control: word,
        input,
        fast: false,
      })
      if (
        action.kind === 'getRegister' &&
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
