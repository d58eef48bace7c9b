import { VtlError } from '@vtl/core'
import { performStep } from '../guest/perform.js'
import type { L2Cpu } from '../td/l2-cpu.js'
import { SimTd, type SimTdOptions } from '../td/sim-td.js'
import type { TraceStats } from '../trace/trace.js'
import { compareExpectations, type Mismatch } from './expect.js'
import type { ActionKind, Scenario, ScenarioPartition, StepResult } from './types.js'

/**
 * Makes the L2s' CPU for a `cpu: x86` partition on a fresh TD: guest RAM, the images and the
 * start state (`@vtl/x86` provides one; @vtl/sim itself runs no native code).
 */
export type L2CpuFactory = (td: SimTd, partition: ScenarioPartition) => L2Cpu

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
  /** The CPU for `partition.cpu: x86` (without it such a scenario cannot run). */
  cpu?: L2CpuFactory
}

/** Builds the TD a scenario's `partition` describes. */
export function createScenarioTd(scenario: Scenario, options: RunScenarioOptions = {}): SimTd {
  const { partition } = scenario
  if (partition.cpu === 'x86' && options.cpu === undefined) {
    throw new VtlError(
      'E_UNSUPPORTED',
      `${scenario.fileName}: partition.cpu x86 needs the x86 CPU backing (@vtl/x86 and libunicorn2)`,
      { field: 'partition.cpu' }
    )
  }
  const td = new SimTd({
    vps: partition.vps,
    memory: partition.memory,
    gpaWidth: partition.gpaWidth,
    mbecCapable: partition.mbecCapable,
    ...(partition.startedVps === undefined ? {} : { startedVps: partition.startedVps }),
    ...(partition.hypercallPages === undefined ? {} : { hypercallPages: partition.hypercallPages }),
    seed: options.seed ?? scenario.seed,
    ...options.td,
  })
  if (partition.cpu === 'x86' && options.cpu !== undefined) td.l2Cpu = options.cpu(td, partition)
  return td
}

/**
 * Runs every step in order on a fresh TD and checks its expectations (a CPU for guest code is
 * closed at the end unless `onTd` took the TD). A `vtl` assertion (the VTL
 * the VP acts at, after handling its wakes) that does not hold is reported as a mismatch of field
 * `vtl`; the step still runs, so the report shows what happened.
 */
export function runScenario(scenario: Scenario, options: RunScenarioOptions = {}): ScenarioReport {
  const td = createScenarioTd(scenario, options)
  if (options.onTd !== undefined) {
    options.onTd(td)
    return runSteps(td, scenario)
  }
  try {
    return runSteps(td, scenario)
  } finally {
    td.l2Cpu?.close() // nobody else holds the TD: free the CPU's native engines now
  }
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
