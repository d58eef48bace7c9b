import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, platform, release } from 'node:os'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import cliProgress from 'cli-progress'
import { InvariantLog } from './invariant-log.js'

/** One reliability campaign: a seeded run, repeated. */
export interface Campaign {
  readonly name: string
  /** What one run covers, for the summary (`a guest program`, `100 dispatcher inputs`). */
  readonly unit: string
  /** Runs without `--budget` (Infinity: as many as `defaultBudgetSeconds` allows). */
  readonly defaultRuns: number
  /** The time cap without `--budget` (Infinity: none). */
  readonly defaultBudgetSeconds: number
  /**
   * One run from `seed`, checking through `log`; returns how many of the campaign's counted items
   * (inputs, programs…) it covered. The same seed must give the same run. May throw: the runner
   * records an error escaping a run as a violation.
   */
  run(seed: number, log: InvariantLog): number | Promise<number>
  /** Releases what the campaign holds across runs (worker threads, child processes). */
  close?(): Promise<void>
}

export interface RunnerOptions {
  /** First seed; run i uses seed + i (default 1). */
  seed?: number
  /** Stop after this many runs (default: the campaign's, or unlimited with a budget). */
  runs?: number
  /** Stop starting runs after this many seconds. */
  budgetSeconds?: number
  /** Draw a progress bar on stderr (default: when stderr is a TTY). */
  progress?: boolean
}

export interface FailedRun {
  seed: number
  violations: string[]
  /** Violations beyond the ones listed. */
  more: number
}

/** The JSON summary (campaign-results/<name>.json); RELIABILITY.md is written from it. */
export interface CampaignSummary {
  campaign: string
  unit: string
  seed: number
  /** Seconds, or null when the run count alone bounded the campaign. */
  budgetSeconds: number | null
  runs: number
  /** Counted items over all runs (inputs, programs, rounds, cycles). */
  items: number
  failures: number
  failedSeeds: number[]
  failed: FailedRun[]
  /** How to replay the first failure (one run, same seed). */
  replay: string | null
  durationMs: number
  /** Each invariant's name and how many times it was checked. */
  invariants: Record<string, number>
  /** What the runs exercised (statuses, exceptions, typed error codes, injected faults…). */
  outcomes: Record<string, number>
  machine: { cpus: number; model: string; node: string; os: string }
  startedAt: string
  gitCommit: string | null
}

/** The repository's root folder (git commit, default output folder). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** Failed runs kept in the summary in full (their seeds are all kept). */
const MAX_FAILED_DETAILS = 20

function sorted(map: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

function gitCommit(cwd: string): string | null {
  const git = spawnSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8' })
  return git.status === 0 ? git.stdout.trim() : null
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    const where = error.stack?.split('\n')[1]?.trim() ?? ''
    return `${error.name}${typeof code === 'string' ? ` ${code}` : ''}: ${error.message} ${where}`
  }
  return String(error)
}

/** Lets timers (the progress bar's redraw) run between synchronous runs. */
const yieldToTimers = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * Runs `campaign` for its budget: seeds `seed`, `seed + 1`, … one run each, until the run count or
 * the time budget is reached (a run in progress is finished), and returns the summary.
 */
export async function runCampaign(
  campaign: Campaign,
  options: RunnerOptions = {}
): Promise<CampaignSummary> {
  const seed = options.seed ?? 1
  const budgetSeconds = options.budgetSeconds ?? campaign.defaultBudgetSeconds
  const runs =
    options.runs ??
    (options.budgetSeconds === undefined ? campaign.defaultRuns : Number.POSITIVE_INFINITY)
  if (!Number.isFinite(runs) && !Number.isFinite(budgetSeconds)) {
    throw new RangeError(`${campaign.name}: neither a run count nor a time budget bounds it`)
  }
  const startedAt = new Date()
  const started = performance.now()
  const deadline = started + budgetSeconds * 1000
  const totals = new InvariantLog()
  const failed: FailedRun[] = []
  const failedSeeds: number[] = []
  const showProgress = options.progress ?? process.stderr.isTTY
  const byRuns = Number.isFinite(runs)
  const bar = showProgress
    ? new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: `${campaign.name} [{bar}] {value}/{total} ${byRuns ? 'runs' : 's'} | {failures} failures | {duration_formatted}`,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic
      )
    : undefined
  bar?.start(byRuns ? runs : Math.ceil(budgetSeconds), 0, { failures: 0 })

  let done = 0
  let items = 0
  let lastYield = performance.now()
  try {
    while (done < runs && performance.now() < deadline) {
      const runSeed = seed + done
      const log = new InvariantLog()
      try {
        items += await campaign.run(runSeed, log)
      } catch (error) {
        log.fail('no uncaught error', errorText(error))
      }
      done++
      totals.merge(log)
      if (log.failed) {
        failedSeeds.push(runSeed)
        if (failed.length < MAX_FAILED_DETAILS) {
          failed.push({ seed: runSeed, violations: log.violations, more: log.dropped })
        }
      }
      const now = performance.now()
      bar?.update(byRuns ? done : Math.floor((now - started) / 1000), {
        failures: failedSeeds.length,
      })
      if (now - lastYield > 100) {
        lastYield = now
        await yieldToTimers()
      }
    }
  } finally {
    bar?.stop()
    await campaign.close?.()
  }

  const cpuList = cpus()
  const first = failedSeeds[0]
  return {
    campaign: campaign.name,
    unit: campaign.unit,
    seed,
    budgetSeconds: Number.isFinite(budgetSeconds) ? budgetSeconds : null,
    runs: done,
    items,
    failures: failedSeeds.length,
    failedSeeds,
    failed,
    replay: first === undefined ? null : `pnpm campaign ${campaign.name} --seed ${first} --runs 1`,
    durationMs: Math.round(performance.now() - started),
    invariants: sorted(totals.checks),
    outcomes: sorted(totals.outcomes),
    machine: {
      cpus: cpuList.length,
      model: cpuList[0]?.model ?? 'unknown',
      node: process.version,
      os: `${platform()} ${release()}`,
    },
    startedAt: startedAt.toISOString(),
    gitCommit: gitCommit(REPO_ROOT),
  }
}

/** The one line a campaign ends with. */
export function summaryLine(summary: CampaignSummary, file?: string): string {
  const checks = Object.values(summary.invariants).reduce((a, b) => a + b, 0)
  const parts = [
    `${summary.campaign}: ${summary.runs} runs (${summary.items} ${summary.unit}s)`,
    `${summary.failures} failures`,
    `${checks} invariant checks`,
    `seed ${summary.seed}`,
    `${(summary.durationMs / 1000).toFixed(1)} s`,
  ]
  if (summary.failures > 0) {
    const seeds = summary.failedSeeds.slice(0, 10).join(', ')
    parts.push(`failing seeds ${seeds}${summary.failures > 10 ? ', …' : ''}`)
    if (summary.replay !== null) parts.push(`replay: ${summary.replay}`)
  }
  return parts.join(', ') + (file === undefined ? '' : ` → ${file}`)
}

/** Writes the summary as JSON (creating the folder). */
export function writeSummary(summary: CampaignSummary, file: string): void {
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, JSON.stringify(summary, null, 2) + '\n')
}
