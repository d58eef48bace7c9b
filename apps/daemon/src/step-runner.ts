import { VtlError, type GuestVtl } from '@vtl/core'
import type { GuestAction, ScenarioStep, SimTd, StepOutcome, StepResult } from '@vtl/sim'
import { parseSteps, parseStepsSliced, type StepSource } from './guest-steps.js'
import type { JournalRecord, StepRecord } from './journal.js'
import { ProblemError } from './problem.js'
import type { ServedTd } from './served-td.js'
import type { TdEntry } from './td-entry.js'
import { TimeSlice } from './time-slice.js'
import type { RangeResult, StepDone } from './td-types.js'

/** What a command did: the records to journal, then its value or the problem to answer. */
export type Mutation<T> = {
  records: JournalRecord[]
  /** The records' JSON text when made beforehand (a restore's, in slices). */
  texts?: readonly (string | undefined)[]
} & (
  | { value: T; error?: undefined }
  /** `panic`: the paravisor panicked; the TD fails once the records are journaled. */
  | { error: ProblemError; panic?: string }
)

/** The step API of a TD (`SimTd` answers at once, a served TD maybe later). */
interface Steppable<R> {
  actingVtl(vp: number): GuestVtl
  step(vp: number, action: GuestAction): R
}

/**
 * Performs one step; with a `vtl` assertion that does not hold, only the VP's wake handling
 * happens (deterministic, so replay reproduces it) and the mismatch is returned.
 */
function applyStep<R>(td: Steppable<R>, step: ScenarioStep): R | Mismatch {
  if (step.vtl !== undefined) {
    const vtl = td.actingVtl(step.vp)
    if (vtl !== step.vtl) return { vtl }
  }
  return td.step(step.vp, step.action)
}

type Mismatch = { vtl: GuestVtl; result?: undefined }
type Tried = StepOutcome | Mismatch | { panic: string }

/**
 * A typed panic of the paravisor (a VtlError where OpenHCL would crash the TD) as a value: it is
 * deterministic, so the step is journaled and a replay fails the TD the same way.
 */
function panicOf(error: unknown): { panic: string } {
  if (!VtlError.isInstance(error)) throw error
  return { panic: `the paravisor panicked: ${error.message} (${error.code})` }
}

/** `applyStep` on the software TD, synchronously (journal replay). */
export function tryStep(td: SimTd, step: ScenarioStep): Tried {
  try {
    return applyStep(td, step)
  } catch (error) {
    return panicOf(error)
  }
}

/** `applyStep` on a served TD, whichever backend (the hardware path answers asynchronously). */
async function tryServedStep(td: ServedTd, step: ScenarioStep): Promise<Tried> {
  try {
    return await applyStep(td, step)
  } catch (error) {
    return panicOf(error)
  }
}

/** The answer to a command whose step `index` panicked (the TD fails once it is journaled). */
function panicked(records: JournalRecord[], index: number, panic: string): Mutation<never> {
  return { records, panic, error: new ProblemError('E_PARAVISOR_PANIC', `step ${index}: ${panic}`) }
}

/**
 * Performs step objects in order, stopping at the first `vtl` assertion that does not hold
 * (E_VTL_MISMATCH; the steps before it stay applied and journaled). Yields to the event loop
 * between steps once its time slice (`slice`: the command's, shared with its parse) is used.
 */
export async function runSteps(
  entry: TdEntry,
  sources: readonly StepSource[],
  steps: readonly ScenarioStep[] = parseSteps(entry.meta, sources),
  slice = new TimeSlice()
): Promise<Mutation<StepDone[]>> {
  const records: StepRecord[] = []
  const done: StepDone[] = []
  for (const [index, step] of steps.entries()) {
    const pause = slice.due()
    if (pause !== undefined) await pause
    records.push({ op: 'step', td: entry.meta.td, step: JSON.stringify(sources[index]) })
    const outcome = await tryServedStep(entry.td, step)
    if ('panic' in outcome) return panicked(records, index, outcome.panic)
    if (outcome.result === undefined) {
      const before = index === 0 ? 'no step before it ran' : `steps 0..${index - 1} were applied`
      return {
        records,
        error: new ProblemError(
          'E_VTL_MISMATCH',
          `step ${index}: VP ${step.vp} acts at VTL${outcome.vtl}, not VTL${step.vtl ?? '?'}; ` +
            `nothing of it ran (${before} and journaled)`
        ),
      }
    }
    done.push({
      index,
      vp: step.vp,
      vtl: outcome.vtl,
      action: step.action.kind,
      result: outcome.result,
    })
  }
  return { records, value: done }
}

/**
 * Typed rep calls over a range (one per chunk of GPNs), stopping at the first failure; time
 * sliced as `runSteps`.
 */
export async function runRangeSteps(
  entry: TdEntry,
  sources: readonly StepSource[]
): Promise<Mutation<RangeResult>> {
  // One slice for the parse and the run: the command yields once it used SLICE_MS in all.
  const slice = new TimeSlice()
  const steps = await parseStepsSliced(entry.meta, sources, slice)
  const records: StepRecord[] = []
  let processed = 0
  let last: StepResult = {}
  for (const [index, step] of steps.entries()) {
    const pause = slice.due()
    if (pause !== undefined) await pause
    records.push({ op: 'step', td: entry.meta.td, step: JSON.stringify(sources[index]) })
    const outcome = await tryServedStep(entry.td, step)
    if ('panic' in outcome) return panicked(records, index, outcome.panic)
    last = outcome.result ?? {}
    processed += typeof last.repsCompleted === 'number' ? last.repsCompleted : 0
    if (last.status !== 'Success') break
  }
  return { records, value: { ...last, processed } }
}
