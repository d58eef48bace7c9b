import {
  HV_PARTITION_ID_SELF,
  HV_VP_INDEX_SELF,
  HYPERCALL_TABLE,
  HypercallCode,
  HypercallException,
  HvRegisterName,
  VtlError,
  dispatchHypercall,
  encodeGetVpRegisters,
  encodeHypercallControl,
  encodeSetVpRegisters,
  exitToParavisor,
  hvStatusName,
  prepareEntry,
  type HypercallOutcome,
  type HypercallRequest,
  type VsmEngine,
} from '@vtl/core'
import { SimTd, createRandom, performStep, type Random } from '@vtl/sim'
import {
  contextAt,
  enablePartitionVtl,
  enableSelf,
  enableVpVtl,
  gpnRange,
  hypercall,
  modifyHostVisibility,
  modifyVtlProtectionMask,
  startVirtualProcessor,
} from './guest-calls.js'
import type { InvariantLog } from './invariant-log.js'
import { checkMemoryMap, checkVsmState } from './invariants.js'
import type { Campaign } from './runner.js'

const VPS = 4
const MEMORY = 8n << 20n
/** Inputs per run: a run boots one TD, then fuzzes it. */
export const FUZZ_INPUTS_PER_RUN = 100
const CODES = [...HYPERCALL_TABLE.keys()]
const REGISTER_NAMES = Object.values(HvRegisterName)
const U64 = (1n << 64n) - 1n
/** Values that sit on the edges of the fields they land in. */
const EDGE_VALUES = [0n, 1n, 2n, 0xffn, 0xffffn, 0xffff_ffffn, 1n << 63n, U64, 0x1fn, 0x8000n]

function randomU64(random: Random): bigint {
  if (random.int(3) === 0) return random.pick(EDGE_VALUES)
  return (BigInt(random.int(0x1_0000_0000)) << 32n) | BigInt(random.int(0x1_0000_0000))
}

function randomBytes(random: Random, length: number): Uint8Array {
  const bytes = new Uint8Array(length)
  for (let i = 0; i < length; i++) bytes[i] = random.int(256)
  return bytes
}

/** A well-formed input page for `code` and its rep count (the mutations then break it). */
function template(random: Random, code: number): { input: Uint8Array; reps: number } {
  const vp = random.pick([0, 1, 2, 3, HV_VP_INDEX_SELF, 4, 0xffff_ffff])
  const gpns = gpnRange(random.int(2048), 1 + random.int(8))
  const header = {
    partitionId: random.int(8) === 0 ? randomU64(random) : HV_PARTITION_ID_SELF,
    vpIndex: HV_VP_INDEX_SELF,
    targetVtl: random.pick([0, 0x10, 0x11, 0x12, 0x01, 0xff]),
  }
  const names = Array.from({ length: 1 + random.int(3) }, () => registerName(random))
  const simple = (input: Uint8Array) => ({ input, reps: 0 })
  switch (code) {
    case HypercallCode.EnablePartitionVtl:
      return simple(enablePartitionVtl().input)
    case HypercallCode.EnableVpVtl:
      return simple(enableVpVtl(vp, contextAt(randomU64(random))).input)
    case HypercallCode.StartVirtualProcessor: {
      const vtl = random.pick([0, 1] as const)
      return simple(startVirtualProcessor(vp, vtl, contextAt(randomU64(random))).input)
    }
    case HypercallCode.ModifyVtlProtectionMask:
      return { input: modifyVtlProtectionMask(random.int(0x20), gpns).input, reps: gpns.length }
    case HypercallCode.ModifySparseGpaPageHostVisibility:
      return {
        input: modifyHostVisibility(random.pick([0, 1, 2, 3]), gpns).input,
        reps: gpns.length,
      }
    case HypercallCode.GetVpRegisters:
      return { input: encodeGetVpRegisters(header, names), reps: names.length }
    case HypercallCode.SetVpRegisters: {
      const values = names.map((name) => ({ name, value: randomU64(random) }))
      return { input: encodeSetVpRegisters(header, values), reps: names.length }
    }
    default: {
      const reps = HYPERCALL_TABLE.get(code)?.kind === 'rep' ? 1 + random.int(4) : 0
      return { input: randomBytes(random, random.pick([0, 8, 16, 24, 32, 64, 240])), reps }
    }
  }
}

function registerName(random: Random): number {
  return random.int(4) === 0 ? random.int(0x1_0000_0000) : random.pick(REGISTER_NAMES)
}

/** Bit flips, byte overwrites, truncation or extension of a well-formed input. */
function mutate(random: Random, input: Uint8Array): Uint8Array {
  let bytes = new Uint8Array(input)
  const mutations = random.int(4)
  for (let m = 0; m < mutations; m++) {
    const kind = random.int(4)
    if (kind === 0 && bytes.length > 0) {
      const at = random.int(bytes.length)
      bytes[at] = (bytes[at] ?? 0) ^ (1 << random.int(8))
    } else if (kind === 1 && bytes.length > 0) {
      bytes[random.int(bytes.length)] = random.pick([0, 0xff, 0x80, 1, random.int(256)])
    } else if (kind === 2) {
      bytes = bytes.subarray(0, random.int(bytes.length + 1))
    } else {
      const longer = new Uint8Array(bytes.length + random.int(64))
      longer.set(bytes)
      longer.set(randomBytes(random, longer.length - bytes.length), bytes.length)
      bytes = longer
    }
  }
  return bytes
}

/** One random or mutated hypercall from `vp`, as the guest's registers and input page hold it. */
export function fuzzRequest(random: Random, vp: number): HypercallRequest {
  if (random.int(20) === 0) {
    // Anything at all in the control word.
    return { vp, control: randomU64(random), input: randomBytes(random, random.int(512)) }
  }
  const code = random.int(5) === 0 ? random.int(0x1_0000) : random.pick(CODES)
  const { input, reps } = template(random, code)
  // Mostly the rep count the input holds; otherwise anything the 12-bit field takes.
  const repCount = random.int(4) !== 0 ? reps : random.pick([0, 1, 2, random.int(0x1000)])
  let control = encodeHypercallControl({
    code,
    fast: random.int(10) === 0,
    variableHeaderSize: random.int(8) === 0 ? random.int(0x400) : 0,
    nested: false,
    repCount,
    repStart: repCount === 0 || random.int(2) === 0 ? 0 : random.int(repCount + 2) % 0x1000,
  })
  // Reserved control bits, now and then.
  if (random.int(10) === 0) control |= 1n << BigInt(random.pick([17, 26, 27, 31, 44, 45, 63]))
  const request: HypercallRequest = { vp, control }
  if (random.int(20) === 0) request.cpl = 1 + random.int(3)
  if (code === HypercallCode.VtlCall || code === HypercallCode.VtlReturn) {
    request.vtlInput = random.pick([0n, 1n, 2n, randomU64(random)])
    return request
  }
  request.input =
    random.int(6) === 0
      ? randomBytes(random, random.int(4200))
      : random.int(2) === 0
        ? input
        : mutate(random, input)
  request.inputGpa = random.int(10) === 0 ? randomU64(random) : 0n
  request.outputGpa = random.int(10) === 0 ? randomU64(random) : 0x1000n
  if (random.int(5) === 0) {
    request.fastRegisters = Array.from({ length: random.int(15) }, () => randomU64(random))
  }
  return request
}

/** A TD with VTL1 Active on VPs 0 and 1 (VP 1 started into VTL1) and VPs 2, 3 not started. */
function bootedTd(): SimTd {
  const td = new SimTd({ vps: VPS, memory: MEMORY, startedVps: [0], traceEvents: false })
  performStep(td, 0, hypercall(enablePartitionVtl()))
  performStep(td, 0, hypercall(enableSelf(contextAt(0x10_0000n))))
  performStep(td, 0, { kind: 'vtlCall', input: 0n })
  performStep(td, 0, hypercall(enableVpVtl(1, contextAt(0x11_0000n))))
  performStep(td, 0, hypercall(startVirtualProcessor(1, 0, contextAt(0x12_0000n))))
  performStep(td, 1, { kind: 'run' })
  return td
}

/** Whether an outcome is one the guest may see: an HvStatus, #UD/#GP, a retry or a switch. */
function checkOutcome(outcome: HypercallOutcome, log: InvariantLog): void {
  switch (outcome.kind) {
    case 'completed': {
      const name = hvStatusName(outcome.status)
      log.tally(`status ${name ?? outcome.status}`)
      log.check('every status is an HvStatus', name !== undefined, () => {
        return `status 0x${outcome.status.toString(16)} is no HvStatus`
      })
      break
    }
    case 'exception':
      log.tally(`exception ${outcome.vector}`)
      log.check(
        'exceptions are #UD or #GP',
        outcome.vector === HypercallException.InvalidOpcode ||
          outcome.vector === HypercallException.GeneralProtection,
        () => `vector ${outcome.vector}`
      )
      break
    default:
      log.tally(outcome.kind)
  }
}

export interface FuzzOptions {
  /** The dispatcher under test (tests plant an untyped throw through it). */
  dispatch?: (engine: VsmEngine, request: HypercallRequest) => HypercallOutcome
}

/**
 * `fuzz`: random and mutated hypercalls (control words, input pages, rep ranges, register names
 * and values, fast registers, CPL, buffer GPAs) through core's dispatcher from random VPs in
 * whichever VTL they are in (VtlCall/VtlReturn among them move VPs between VTLs). Every outcome
 * must be an HvStatus, #UD/#GP or a typed `VtlError`; the engine invariants and the memory map
 * hold throughout.
 */
export function createFuzzCampaign(options: FuzzOptions = {}): Campaign {
  const dispatch = options.dispatch ?? dispatchHypercall
  return {
    name: 'fuzz',
    unit: 'dispatcher input',
    defaultRuns: 1_000_000 / FUZZ_INPUTS_PER_RUN,
    defaultBudgetSeconds: Number.POSITIVE_INFINITY,
    run(seed: number, log: InvariantLog): number {
      const random = createRandom(seed)
      let td = bootedTd()
      for (let i = 0; i < FUZZ_INPUTS_PER_RUN; i++) {
        const vp = random.int(VPS)
        const request = fuzzRequest(random, vp)
        const { engine } = td
        log.tally(`from VTL${engine.vp(vp).exitVtl}`)
        td.runOn(vp)
        let outcome: HypercallOutcome
        try {
          // As a VP thread does: exit to the paravisor, dispatch, handle wakes before re-entry.
          exitToParavisor(engine, vp)
          outcome = dispatch(engine, request)
          prepareEntry(engine, vp)
        } catch (error) {
          const typed = VtlError.isInstance(error)
          log.tally(typed ? `typed error ${error.code}` : 'untyped error')
          log.check('no untyped error', typed, () => {
            const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
            return `input ${i} (control 0x${request.control.toString(16)}): ${text}`
          })
          // The TD is now where OpenHCL would have stopped (a panic): go on with a fresh one.
          checkMemoryMap(td, log)
          td = bootedTd()
          continue
        }
        checkOutcome(outcome, log)
        checkVsmState(td.engine, log)
      }
      checkMemoryMap(td, log)
      return FUZZ_INPUTS_PER_RUN
    },
  }
}
