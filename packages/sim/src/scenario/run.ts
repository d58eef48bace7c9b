import { performStep } from '../guest/perform.js'
import { SimTd, type SimTdOptions } from '../td/sim-td.js'
import type { TraceStats } from '../trace/trace.js'
import { compareExpectations, type Mismatch } from './expect.js'
import type { ActionKind, Scenario, StepResult } from './types.js'

export interface ReportStep {
  index: number
  vp: number
  vtl: number
  action: ActionKind
  result: StepResult
  ok: boolean
  mismatches: Mismatch[]
}

/** The run report (scenario-format.md "Report"). */
export interface ScenarioReport {
  version: 1
  scenario: string
  seed: number
  passed: number
  failed: number
  steps: ReportStep[]
  stats: TraceStats
}

export interface RunScenarioOptions {
  /** Override the file's seed. */
  seed?: number
  /** Extra TD options (cost model, fault injector, trace size, a shared state for a parallel host). */
  td?: Partial<Pick<SimTdOptions, 'costModel' | 'faults' | 'traceLimit' | 'traceEvents' | 'shared'>>
  /** Called with the TD before the first step (tests, tools). */
  onTd?: (td: SimTd) => void
}

/** Builds the TD a scenario's `partition` describes. */
export function createScenarioTd(scenario: Scenario, options: RunScenarioOptions = {}): SimTd {
  const { partition } = scenario
  return new SimTd({
    vps: partition.vps,
    memory: partition.memory,
    gpaWidth: partition.gpaWidth,
    mbecCapable: partition.mbecCapable,
    ...(partition.startedVps === undefined ? {} : { startedVps: partition.startedVps }),
    ...(partition.hypercallPages === undefined ? {} : { hypercallPages: partition.hypercallPages }),
    seed: options.seed ?? scenario.seed,
    ...options.td,
  })
}

/**
 * Runs every step in order on a fresh TD and checks its expectations. A `vtl` assertion (the VTL
 * the VP acts at, after handling its wakes) that does not hold is reported as a mismatch of field
 * `vtl`; the step still runs, so the report shows what happened.
 */
export function runScenario(scenario: Scenario, options: RunScenarioOptions = {}): ScenarioReport {
  const td = createScenarioTd(scenario, options)
  options.onTd?.(td)
  return runSteps(td, scenario)
}

/** Runs a scenario's steps on an existing TD (the report's stats are the TD's totals). */
export function runSteps(td: SimTd, scenario: Scenario, from = 0): ScenarioReport {
  const steps: ReportStep[] = []
  let passed = 0
  let failed = 0
  scenario.steps.forEach((step, index) => {
    if (index < from) return
    const { vtl, result } = performStep(td, step.vp, step.action)
    const mismatches: Mismatch[] = []
    if (step.vtl !== undefined && vtl !== step.vtl) {
      mismatches.push({ field: 'vtl', expected: step.vtl, actual: vtl })
    }
    if (step.expect !== undefined) mismatches.push(...compareExpectations(step.expect, result))
    const ok = mismatches.length === 0
    if (ok) passed++
    else failed++
    steps.push({ index, vp: step.vp, vtl, action: step.action.kind, result, ok, mismatches })
  })
  return {
    version: 1,
    scenario: scenario.name,
    seed: td.seed,
    passed,
    failed,
    steps,
    stats: td.stats(),
  }
}
