import { readdir, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { VtlError } from '@vtl/core'
import { createRequire } from 'node:module'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import {
  createScenarioTd,
  loadScenarioFile,
  runScenario,
  runSteps,
  type ChromeTraceEvent,
  type L2CpuFactory,
  type ParseProgress,
  type Scenario,
  type ScenarioReport,
  type SimTd,
} from '@vtl/sim'
import { badInput } from './errors.js'

const SCENARIO_EXTENSIONS = /\.(ya?ml|json)$/i

/** A glob of the file-name part (`dir/*.yaml`, `x?.json`) as a RegExp; undefined for none. */
function globOf(name: string): RegExp | undefined {
  if (!/[*?[]/.test(name)) return undefined
  const source = name
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]')
  return new RegExp(`^${source}$`)
}

/**
 * Files, directories and globs (in the file-name part, for a quoted pattern the shell did not
 * expand) → scenario files: a directory's `.yaml`/`.yml`/`.json` files, a glob's matches, sorted.
 */
export async function expandScenarioPaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = []
  for (const path of paths) {
    const glob = globOf(basename(path))
    if (glob !== undefined) {
      const folder = dirname(path)
      const names = await readdir(folder).catch(() => undefined)
      const matches = (names ?? []).filter((n) => glob.test(n)).sort()
      if (matches.length === 0) throw badInput(`${path}: no file matches`)
      files.push(
        ...matches.map((n) => (folder === '.' && !path.startsWith('./') ? n : join(folder, n)))
      )
      continue
    }
    let info
    try {
      info = await stat(path)
    } catch {
      throw badInput(`${path}: no such file or directory`)
    }
    if (info.isDirectory()) {
      const names = (await readdir(path)).filter((n) => SCENARIO_EXTENSIONS.test(n)).sort()
      if (names.length === 0) throw badInput(`${path}: no .yaml, .yml or .json scenario files`)
      files.push(...names.map((n) => join(path, n)))
    } else {
      files.push(path)
    }
  }
  return files
}

/** A finished run: the report (the public contract) plus the TD for timelines, traces and memory. */
export interface ScenarioRun {
  file: string
  scenario: Scenario
  report: ScenarioReport
  td: SimTd
}

export interface RunOptions {
  seed?: number
  /** Keep trace events (timelines, --trace). Counters are exact either way. */
  traceEvents?: boolean
  /** The CPU of a `cpu: x86` scenario (`cpuFor`). */
  cpu?: L2CpuFactory
}

/**
 * The CPU a scenario's L2s need: for `partition.cpu: x86`, `@vtl/x86`'s, loaded only then (it
 * brings an FFI to libunicorn that scripted scenarios never need).
 */
export async function cpuFor(scenario: Scenario): Promise<L2CpuFactory | undefined> {
  if (scenario.partition.cpu !== 'x86') return undefined
  const { x86ScenarioCpu } = await import('@vtl/x86')
  return x86ScenarioCpu
}

/** Runs one parsed scenario on a fresh simulated TD. */
export function runOne(file: string, scenario: Scenario, options: RunOptions = {}): ScenarioRun {
  let td: SimTd | undefined
  const report = runScenario(scenario, {
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    td: { traceEvents: options.traceEvents ?? false },
    ...(options.cpu === undefined ? {} : { cpu: options.cpu }),
    onTd: (t) => {
      td = t
    },
  })
  if (td === undefined) throw new Error('the simulator did not hand out its TD')
  td.l2Cpu?.close()
  return { file, scenario, report, td }
}

/** Steps a chunked run performs between two turns of the event loop (progress redraws). */
const STEPS_PER_TURN = 1000

/**
 * `runOne` in chunks of steps, yielding to the event loop between them so that a progress bar
 * redraws while a long scenario runs; `onSteps(n)` after each chunk. The report is the one
 * `runScenario` gives (the stats are the TD's totals).
 */
export async function runOneInTurns(
  file: string,
  scenario: Scenario,
  options: RunOptions = {},
  onSteps: (done: number) => void = () => undefined
): Promise<ScenarioRun> {
  const cpu = await cpuFor(scenario)
  const td = createScenarioTd(scenario, {
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    td: { traceEvents: options.traceEvents ?? false },
    ...(cpu === undefined ? {} : { cpu }),
  })
  const steps: ScenarioReport['steps'] = []
  let report: ScenarioReport | undefined
  let passed = 0
  let failed = 0
  for (let from = 0; report === undefined || from < scenario.steps.length; from += STEPS_PER_TURN) {
    const to = from + STEPS_PER_TURN
    report = runSteps(td, { ...scenario, steps: scenario.steps.slice(0, to) }, from)
    steps.push(...report.steps)
    passed += report.passed
    failed += report.failed
    onSteps(report.steps.length)
    await yieldToLoop()
  }
  // Traces and memory maps read the TD's books and contents, never the CPU: free its engines.
  td.l2Cpu?.close()
  return { file, scenario, report: { ...report, passed, failed, steps }, td }
}

/** Each file parsed: its scenario, or the error that names what is wrong in it. */
export type Loaded = { file: string; scenario: Scenario } | { file: string; error: Error }

/**
 * Parses and validates one file (nothing runs): its scenario, or the VtlError that names what is
 * wrong in it (a file that cannot be read too). `onProgress` follows a long parse.
 */
export async function loadOne(
  file: string,
  onProgress?: (progress: ParseProgress) => void
): Promise<Loaded> {
  try {
    return {
      file,
      scenario: await loadScenarioFile(file, onProgress === undefined ? {} : { onProgress }),
    }
  } catch (error) {
    if (!VtlError.isInstance(error)) throw error
    return { file, error }
  }
}

/** Parses and validates every file (nothing runs), collecting each file's error. */
export async function loadEach(files: readonly string[]): Promise<Loaded[]> {
  const out: Loaded[] = []
  for (const file of files) out.push(await loadOne(file))
  return out
}

/**
 * Loads every file; when any is invalid, throws one bad-input error listing every invalid file
 * (one line each), so a directory with several broken files is fixed in one round.
 */
export async function loadAll(files: readonly string[]): Promise<Scenario[]> {
  const loaded = await loadEach(files)
  const errors = loaded.flatMap((l) => ('error' in l ? [l.error.message] : []))
  const first = errors[0]
  if (first !== undefined) {
    if (errors.length === 1) throw badInput(first)
    throw badInput(
      `${errors.length} of ${files.length} files are not valid scenarios (nothing ran):\n${errors.map((e) => `  ${e}`).join('\n')}`
    )
  }
  return loaded.flatMap((l) => ('scenario' in l ? [l.scenario] : []))
}

/** One Chrome trace-event document for several runs: each run's VPs become `<scenario> VP n`. */
export function mergeChromeTraces(runs: readonly ScenarioRun[]): {
  traceEvents: ChromeTraceEvent[]
  displayTimeUnit: 'ns'
} {
  if (runs.length === 1 && runs[0] !== undefined) return runs[0].td.trace.toChromeTrace()
  const traceEvents: ChromeTraceEvent[] = []
  runs.forEach((run, i) => {
    const offset = i * 2048
    for (const e of run.td.trace.toChromeTrace().traceEvents) {
      const pid = e.pid + offset
      if (e.ph === 'M' && e.name === 'process_name') {
        traceEvents.push({ ...e, pid, args: { name: `${run.report.scenario} VP ${e.pid}` } })
      } else if (e.ph === 'M' && e.name === 'process_sort_index') {
        traceEvents.push({ ...e, pid, args: { sort_index: pid } })
      } else {
        traceEvents.push({ ...e, pid })
      }
    }
  })
  return { traceEvents, displayTimeUnit: 'ns' }
}

const require = createRequire(import.meta.url)

/** The bundled scenarios `vtl demo` runs, in order. */
export const DEMO_SCENARIOS = [
  'canonical-boot.yaml',
  'host-visibility-rw-rule.yaml',
  'gpa-intercept-synic.yaml',
] as const

/** A bundled scenario's path, resolved through @vtl/sim's `./scenarios/*` export. */
export function bundledScenarioPath(name: string): string {
  return require.resolve(`@vtl/sim/scenarios/${name}`)
}
