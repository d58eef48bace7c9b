import { decodeHypercallControl, encodeHypercallResult } from '../hv/control.js'
import { HV_PAGE_SIZE, HypercallCode } from '../hv/hypercall-code.js'
import { HvStatus } from '../hv/status.js'
import type { GuestVtl } from '../hv/vtl.js'
import type { VsmEngine } from './engine.js'
import { VMCALL_BYTES } from './handlers/vtl-switch.js'
import {
  HYPERCALL_TABLE,
  type HypercallSpec,
  type RepCall,
  type SimpleCall,
  type VtlSwitchCall,
} from './hypercall-table.js'
import { advanceRip } from './registers.js'

/** Register pairs a fast hypercall may use on TDX in 64-bit mode: RDX:R8 and XMM0–XMM5. */
export const FAST_REGISTER_PAIRS = 7
/** In 32-bit mode only EBX:ECX / EDI:ESI, one pair (§13.17). */
export const FAST_REGISTER_PAIRS_32 = 1
const U64_MASK = 0xffff_ffff_ffff_ffffn
/** #UD and #GP. */
export const HypercallException = { InvalidOpcode: 6, GeneralProtection: 13 } as const

/** A VMCALL as the guest issued it. */
export interface HypercallRequest {
  /** The issuing VP; its current VTL (`exit_vtl`) is the caller. */
  vp: number
  /** The control word (RCX; EDX:EAX in 32-bit mode). */
  control: bigint
  /** CPL at the VMCALL (default 0): anything else is #GP before dispatch. */
  cpl?: number
  /**
   * VtlCall/VtlReturn input: RAX in 64-bit mode, RCX in 32-bit mode. Default: the engine's shared
   * RAX.
   */
  vtlInput?: bigint
  /** Memory calls: input and output GPAs (RDX, R8). */
  inputGpa?: bigint
  outputGpa?: bigint
  /** Memory calls: the guest bytes from `inputGpa` on (at least the input length). */
  input?: Uint8Array
  /**
   * Memory calls without `input`: reads the input's `length` bytes from guest RAM at `inputGpa`
   * (undefined: the read failed). Called only after the buffer checks pass.
   */
  readInput?: (length: number) => Uint8Array | undefined
  /** Fast calls: RDX, R8, then XMM0 low, XMM0 high, … as u64 values (up to 14). */
  fastRegisters?: readonly bigint[]
  /** The caller runs in 64-bit mode (default true); in 32-bit mode a fast call has one pair. */
  longMode?: boolean
}

/** What the guest sees. The engine has already applied RIP/RAX/RCX changes to its own state. */
export type HypercallOutcome =
  | {
      kind: 'completed'
      /** The result word written to RAX. */
      result: bigint
      status: HvStatus
      repsCompleted: number
      /** Output bytes to write at `outputGpa + outputOffset` (rep calls: the completed elements). */
      output: Uint8Array | undefined
      outputOffset: number
      advanceRip: true
    }
  | {
      /** Timeout (or a TLB-lock wait): RIP stays, the control word is rewritten for the retry. */
      kind: 'retry'
      control: bigint
      advanceRip: false
    }
  | { kind: 'exception'; vector: number; advanceRip: false }
  | { kind: 'vtl-switch'; vtl: GuestVtl; advanceRip: true }

/** `HYPERCALL_TABLE` as an array by call code (an indexed load on every dispatch). */
const SPEC_BY_CODE: (HypercallSpec | undefined)[] = []
for (const [code, spec] of HYPERCALL_TABLE) SPEC_BY_CODE[code] = spec

/** The VTL-switch outcomes, one frozen object per VTL (the round trip allocates none). */
const VTL_SWITCH: readonly [HypercallOutcome, HypercallOutcome] = [
  Object.freeze({ kind: 'vtl-switch', vtl: 0, advanceRip: true }),
  Object.freeze({ kind: 'vtl-switch', vtl: 1, advanceRip: true }),
]

function complete(
  engine: VsmEngine,
  vp: number,
  callerVtl: GuestVtl,
  status: HvStatus,
  repsCompleted: number,
  output?: Uint8Array,
  outputOffset = 0
): HypercallOutcome {
  const result = encodeHypercallResult({ status, repsCompleted })
  const state = engine.vp(vp)
  state.shared.rax = result
  advanceRip(state.vtls[callerVtl].registers, VMCALL_BYTES)
  return {
    kind: 'completed',
    result,
    status,
    repsCompleted,
    output,
    outputOffset,
    advanceRip: true,
  }
}

function inject(engine: VsmEngine, vp: number, vtl: GuestVtl, vector: number): HypercallOutcome {
  engine.ports.vp.injectException(
    vp,
    vtl,
    vector === HypercallException.GeneralProtection ? { vector, errorCode: 0 } : { vector }
  )
  return { kind: 'exception', vector, advanceRip: false }
}

/** `check_buffer`: a memory buffer must not cross a page, and must be 8-byte aligned if non-empty. */
function checkBuffer(gpa: bigint, length: number): HvStatus {
  const page = BigInt(HV_PAGE_SIZE)
  if (BigInt(length) > page - (gpa % page)) return HvStatus.InvalidHypercallInput
  if (length !== 0 && gpa % 8n !== 0n) return HvStatus.InvalidAlignment
  return HvStatus.Success
}

// Fast-call input is staged in one scratch buffer (allocating an ArrayBuffer per call costs more
// than the whole dispatch). Handlers decode their input before returning and never keep it.
const FAST_SCRATCH = new Uint8Array(FAST_REGISTER_PAIRS * 16)
const FAST_VIEW = new DataView(FAST_SCRATCH.buffer)

function fastInputBytes(registers: readonly bigint[], length: number): Uint8Array {
  const words = Math.ceil(length / 16) * 2
  for (let i = 0; i < words; i++)
    FAST_VIEW.setBigUint64(i * 8, (registers[i] ?? 0n) & U64_MASK, true)
  return FAST_SCRATCH.subarray(0, length)
}

/**
 * VtlCall or VtlReturn at CPL 0 (`spec` is its table entry): the handler, and #UD when it refuses.
 * The VMCALL exit calls this directly for a control word that is just one of the two codes.
 */
export function dispatchVtlSwitch(
  engine: VsmEngine,
  vp: number,
  spec: VtlSwitchCall,
  control: bigint,
  input: bigint
): HypercallOutcome {
  const state = engine.vp(vp)
  const callerVtl = state.exitVtl
  if (!spec.run(engine, vp, control, input)) {
    return inject(engine, vp, callerVtl, HypercallException.InvalidOpcode)
  }
  return VTL_SWITCH[state.exitVtl]
}

/** The table entries of VtlCall and VtlReturn (for `dispatchVtlSwitch`). */
export const VTL_CALL_SPEC = vtlSwitchSpec(HypercallCode.VtlCall)
export const VTL_RETURN_SPEC = vtlSwitchSpec(HypercallCode.VtlReturn)

function vtlSwitchSpec(code: number): VtlSwitchCall {
  const spec = HYPERCALL_TABLE.get(code)
  if (spec?.kind !== 'vtl') throw new Error(`hypercall table: ${code} is not a VTL switch`)
  return spec
}

/**
 * The paravisor's hypercall dispatcher (hv1_hypercall `support.rs`, §1.5): CPL check, table
 * lookup, the generic control/buffer checks, the handler, and what the guest then sees. VtlCall
 * and VtlReturn bypass the generic checks. Reserved control bits are not checked (neither are
 * they in hv1_hypercall).
 */
export function dispatchHypercall(engine: VsmEngine, request: HypercallRequest): HypercallOutcome {
  const { vp } = request
  const state = engine.vp(vp)
  const callerVtl = state.exitVtl
  if ((request.cpl ?? 0) !== 0)
    return inject(engine, vp, callerVtl, HypercallException.GeneralProtection)
  // A control word that is just a call code (VtlCall/VtlReturn) needs no BigInt mask.
  const word = request.control
  const code = word >= 0n && word <= 0xffffn ? Number(word) : Number(word & 0xffffn)
  const spec = SPEC_BY_CODE[code]
  if (spec === undefined) return complete(engine, vp, callerVtl, HvStatus.InvalidHypercallCode, 0)
  if (spec.kind === 'vtl') {
    return dispatchVtlSwitch(
      engine,
      vp,
      spec,
      request.control,
      request.vtlInput ?? state.shared.rax
    )
  }

  const control = decodeHypercallControl(request.control)
  let inputLength: number
  let outputStart = 0
  let outputLength: number
  if (spec.kind === 'simple') {
    if (
      control.repCount !== 0 ||
      control.repStart !== 0 ||
      (!spec.variableHeader && control.variableHeaderSize !== 0)
    ) {
      return complete(engine, vp, callerVtl, HvStatus.InvalidHypercallInput, 0)
    }
    inputLength = spec.inputSize + control.variableHeaderSize * 8
    outputLength = spec.outputSize
  } else {
    if (
      control.repCount === 0 ||
      (!spec.variableHeader && control.variableHeaderSize !== 0) ||
      control.repStart >= control.repCount
    ) {
      return complete(engine, vp, callerVtl, HvStatus.InvalidHypercallInput, 0)
    }
    inputLength =
      spec.headerSize + control.variableHeaderSize * 8 + spec.inputElementSize * control.repCount
    outputStart = spec.outputElementSize * control.repStart
    outputLength = spec.outputElementSize * control.repCount
  }

  let input: Uint8Array
  if (control.fast) {
    const inputPairs = Math.ceil(inputLength / 16)
    const outputPairs = Math.ceil(outputLength / 16)
    const pairs = request.longMode === false ? FAST_REGISTER_PAIRS_32 : FAST_REGISTER_PAIRS
    // Extended fast output is not allowed on TDX: any output makes a fast call invalid.
    if (inputPairs > pairs || pairs - inputPairs < outputPairs || outputPairs > 0) {
      return complete(engine, vp, callerVtl, HvStatus.InvalidHypercallInput, 0)
    }
    input = fastInputBytes(request.fastRegisters ?? [], inputLength)
  } else {
    const inputCheck = checkBuffer(request.inputGpa ?? 0n, inputLength)
    if (inputCheck !== HvStatus.Success) return complete(engine, vp, callerVtl, inputCheck, 0)
    const outputCheck = checkBuffer(request.outputGpa ?? 0n, outputLength)
    if (outputCheck !== HvStatus.Success) return complete(engine, vp, callerVtl, outputCheck, 0)
    const bytes = request.input ?? request.readInput?.(inputLength) ?? new Uint8Array(0)
    // A guest-memory read failure.
    if (bytes.length < inputLength) {
      return complete(engine, vp, callerVtl, HvStatus.InvalidHypercallInput, 0)
    }
    input = bytes.subarray(0, inputLength)
  }

  if (spec.kind === 'simple') return finishSimple(engine, request, spec, code, input, callerVtl)
  return finishRep(
    engine,
    request,
    spec,
    code,
    input,
    control.variableHeaderSize,
    control.repStart,
    control.repCount,
    outputStart,
    callerVtl
  )
}

function retry(engine: VsmEngine, request: HypercallRequest, repStart: number): HypercallOutcome {
  const cleared = request.control & ~(0xfffn << 48n)
  const control = cleared | (BigInt(repStart) << 48n)
  engine.vp(request.vp).shared.rcx = control
  return { kind: 'retry', control, advanceRip: false }
}

function finishSimple(
  engine: VsmEngine,
  request: HypercallRequest,
  spec: SimpleCall,
  code: number,
  input: Uint8Array,
  callerVtl: GuestVtl
): HypercallOutcome {
  const status = spec.run(engine, request.vp, code, input)
  if (status === HvStatus.Timeout) return retry(engine, request, 0)
  return complete(engine, request.vp, callerVtl, status, 0)
}

function finishRep(
  engine: VsmEngine,
  request: HypercallRequest,
  spec: RepCall,
  code: number,
  input: Uint8Array,
  variableHeaderSize: number,
  repStart: number,
  repCount: number,
  outputStart: number,
  callerVtl: GuestVtl
): HypercallOutcome {
  const headerLength = spec.headerSize + variableHeaderSize * 8
  const header = input.subarray(0, headerLength)
  const elements = input.subarray(headerLength + repStart * spec.inputElementSize)
  const result = spec.run(engine, request.vp, code, header, elements, repCount - repStart)
  // reps completed counts from element 0 (hv1 adds rep start to the handler's index).
  const done = repStart + result.processed
  if (result.status === HvStatus.Timeout) return retry(engine, request, done)
  const output =
    spec.outputElementSize === 0
      ? undefined
      : (result.output ?? new Uint8Array(0)).subarray(0, result.processed * spec.outputElementSize)
  return complete(engine, request.vp, callerVtl, result.status, done, output, outputStart)
}
