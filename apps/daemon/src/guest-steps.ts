import { formatHex } from '@vtl/core/schemas'
import { parseScenarioData, ScenarioError, type ScenarioStep } from '@vtl/sim'
import type { TdMeta } from './journal.js'
import { ProblemError } from './problem.js'
import type { HypercallSpec } from './td-types.js'
import { TimeSlice } from './time-slice.js'

// Guest actions as scenario-format.md step objects: the steps route takes them as written, the
// typed routes build them, the journal stores them, and the scenario parser is their one
// validator and encoder (typed hypercall inputs included).

/** A step object (`vp`, `vtl?`, one action key, `note?`) as JSON. */
export type StepSource = Record<string, unknown>

/** GPNs one typed rep call carries: a 4 KiB input page after the 16-byte header. */
const GPNS_PER_CALL = (4096 - 16) / 8

/** Parses step objects against the TD's partition (VP range, GPA width); bad input → 400. */
export function parseSteps(meta: TdMeta, sources: readonly StepSource[]): ScenarioStep[] {
  return parseChunk(meta, sources, 0)
}

/**
 * `sources` as the steps from index `start` on of a request: a bad one is refused naming its
 * index in the whole request, as a parse of all of it would.
 */
function parseChunk(meta: TdMeta, sources: readonly StepSource[], start: number): ScenarioStep[] {
  const document = {
    version: 1,
    partition: {
      vps: meta.vps,
      memory: meta.memory,
      gpaWidth: meta.gpaWidth,
      mbecCapable: meta.mbec,
    },
    steps: sources,
  }
  try {
    // Already data (a parsed body or a built step): no JSON text to write and parse again.
    return parseScenarioData(document, 'request').steps
  } catch (error) {
    if (ScenarioError.isInstance(error)) {
      throw new ProblemError('E_VALIDATION', renumbered(error, start).message)
    }
    throw error
  }
}

/** A chunk's step error as the whole request's: its step index (and field path) `start` later. */
function renumbered(error: ScenarioError, start: number): ScenarioError {
  if (start === 0 || error.step === undefined) return error
  const field = error.field ?? ''
  const step = error.step + start
  const at = `steps[${error.step}]`
  return new ScenarioError(
    {
      file: error.file,
      step,
      field: field.startsWith(at) ? `steps[${step}]${field.slice(at.length)}` : field,
    },
    error.problem
  )
}

/** Steps validated between two looks at the time slice. */
const PARSE_CHUNK = 64

/**
 * `parseSteps` a chunk at a time, giving the event loop a turn whenever the time slice is used
 * up (a request of thousands of steps). A bad step is refused with `parseSteps`'s own message.
 */
export async function parseStepsSliced(
  meta: TdMeta,
  sources: readonly StepSource[],
  slice = new TimeSlice()
): Promise<ScenarioStep[]> {
  if (sources.length === 0) return parseSteps(meta, sources)
  const steps: ScenarioStep[] = []
  for (let start = 0; start < sources.length; start += PARSE_CHUNK) {
    const pause = slice.due()
    if (pause !== undefined) await pause
    steps.push(...parseChunk(meta, sources.slice(start, start + PARSE_CHUNK), start))
  }
  return steps
}

/**
 * A raw hypercall as its step object (what the journal keeps) and as the step `parseSteps` makes
 * of it. The API validated every field already, within bounds the scenario parser accepts as
 * they are (the VP's range is the service's check), so the step is built, not parsed again.
 */
export function rawHypercallStep(spec: HypercallSpec): { source: StepSource; step: ScenarioStep } {
  const { vp, vtl, code, input, repStart, repCount, varHeaderSize, fast } = spec
  return {
    source: {
      vp,
      ...(vtl === undefined ? {} : { vtl }),
      hypercall: {
        code,
        input: Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('hex'),
        repStart,
        repCount,
        varHeaderSize,
        fast,
      },
    },
    step: {
      vp,
      vtl,
      action: {
        kind: 'hypercall',
        call: { kind: 'raw', code, input, repStart, repCount, varHeaderSize, fast },
      },
      expect: undefined,
    },
  }
}

/** An initial VP context as the API takes it (fields left out: the scenario default). */
export type ContextSource = Record<string, unknown>

export function enablePartitionVtlStep(vp: number, targetVtl: number, mbec: boolean): StepSource {
  return {
    vp,
    hypercall: {
      name: 'EnablePartitionVtl',
      input: { targetVtl, flags: { enableMbec: mbec } },
    },
  }
}

export function enableVpVtlStep(
  vp: number,
  targetVp: number,
  targetVtl: number,
  context: ContextSource | undefined
): StepSource {
  return {
    vp,
    hypercall: {
      name: 'EnableVpVtl',
      input: {
        vpIndex: targetVp,
        targetVtl,
        ...(context === undefined ? {} : { vpContext: context }),
      },
    },
  }
}

export function startVpStep(
  vp: number,
  targetVp: number,
  targetVtl: number,
  context: ContextSource | undefined
): StepSource {
  return {
    vp,
    hypercall: {
      name: 'StartVirtualProcessor',
      input: {
        vpIndex: targetVp,
        targetVtl,
        ...(context === undefined ? {} : { vpContext: context }),
      },
    },
  }
}

export function setPartitionConfigStep(vp: number, value: bigint): StepSource {
  return { vp, setRegister: { name: 'VsmPartitionConfig', value: formatHex(value) } }
}

/** The GPNs of `[start, start + size)` in lists of at most `GPNS_PER_CALL`. */
export function gpnChunks(start: bigint, size: bigint): string[][] {
  const chunks: string[][] = []
  const first = start >> 12n
  const end = (start + size) >> 12n
  for (let gpn = first; gpn < end; gpn += BigInt(GPNS_PER_CALL)) {
    const chunk: string[] = []
    for (let g = gpn; g < end && chunk.length < GPNS_PER_CALL; g++) chunk.push(formatHex(g))
    chunks.push(chunk)
  }
  return chunks
}

/** HvCallModifyVtlProtectionMask over the range, one call per chunk of GPNs. */
export function protectSteps(
  vp: number,
  targetVtl: number | undefined,
  start: bigint,
  size: bigint,
  flags: number
): StepSource[] {
  return gpnChunks(start, size).map((gpns) => ({
    vp,
    hypercall: {
      name: 'ModifyVtlProtectionMask',
      input: { mapFlags: flags, gpns, ...(targetVtl === undefined ? {} : { targetVtl }) },
    },
  }))
}

/** HvCallModifySparseGpaPageHostVisibility over the range, one call per chunk of GPNs. */
export function hostVisibilitySteps(
  vp: number,
  shared: boolean,
  start: bigint,
  size: bigint
): StepSource[] {
  return gpnChunks(start, size).map((gpns) => ({
    vp,
    hypercall: {
      name: 'ModifySparseGpaPageHostVisibility',
      input: { hostVisibility: shared ? 'shared' : 'private', gpns },
    },
  }))
}
