import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, hostname, platform, release } from 'node:os'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { InvariantLog } from './invariant-log.js'
import { createProgress, type ProgressMode } from './progress.js'
import { shardLabel, shardRuns, shardShare, type Shard } from './shard.js'

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
  /**
   * Perform only this shard's run indexes (`shardRuns`): the shards of one `runs` and `seed`
   * together perform exactly the runs of the unsharded campaign.
   */
  shard?: Shard
  /** Progress on stderr (default: a bar when stderr is a TTY, else none); `true` is `bar`. */
  progress?: boolean | ProgressMode
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
  /** The run count asked for (`--runs` or the campaign's), or null when only time bounded it. */
  plannedRuns: number | null
  /** The shard this process ran (`--shard`); absent from unsharded and merged summaries. */
  shard?: Shard
  /** The shards a merged summary was made from (`pnpm campaign merge`), by index. */
  shards?: ShardRecord[]
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
  machine: Machine
  startedAt: string
  gitCommit: string | null
}

/** Where a summary was produced. */
export interface Machine {
  cpus: number
  model: string
  node: string
  os: string
  /** The host name (a CI runner's, a pod's): which log to read for a shard. */
  host: string
}

/** One shard of a merged summary: what it ran, where and how long. */
export interface ShardRecord {
  index: number
  runs: number
  items: number
  failures: number
  failedSeeds: number[]
  durationMs: number
  startedAt: string
  machine: Machine
}

/** The repository's root folder (git commit, default output folder). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** Failed runs kept in the summary in full (their seeds are all kept). */
export const MAX_FAILED_DETAILS = 20

/** Counts as a JSON object with its keys in code-point order (stable summaries and diffs). */
export function sortedCounts(counts: Iterable<[string, number]>): Record<string, number> {
  return Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/** HEAD, or `VTL_GIT_COMMIT` where there is no repository (a container image built from a tree). */
function gitCommit(cwd: string): string | null {
  const git = spawnSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8' })
  if (git.status === 0) return git.stdout.trim()
  const fromEnv = process.env.VTL_GIT_COMMIT
  return fromEnv === undefined || fromEnv === '' ? null : fromEnv
}

/** `pnpm campaign <name> --seed S --runs 1`: one failed run, replayed on any machine. */
export function replayCommand(campaign: string, seed: number): string {
  return `pnpm campaign ${campaign} --seed ${seed} --runs 1`
}

function machine(): Machine {
  const cpuList = cpus()
  return {
    cpus: cpuList.length,
    model: cpuList[0]?.model ?? 'unknown',
    node: process.version,
    os: `${platform()} ${release()}`,
    host: hostname(),
  }
}

function progressMode(option: RunnerOptions['progress']): ProgressMode {
  if (option === undefined) return process.stderr.isTTY ? 'bar' : 'none'
  if (typeof option === 'boolean') return option ? 'bar' : 'none'
  return option
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
 * Runs `campaign` for its budget: seeds `seed`, `seed + 1`, … one run each (with a shard, only
 * its share of those), until the run count or the time budget is reached (a run in progress is
 * finished), and returns the summary.
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
  const shard = options.shard ?? { index: 1, count: 1 }
  const startedAt = new Date()
  const started = performance.now()
  const deadline = started + budgetSeconds * 1000
  const totals = new InvariantLog()
  const failed: FailedRun[] = []
  const failedSeeds: number[] = []
  const byRuns = Number.isFinite(runs)
  const progress = createProgress(
    progressMode(options.progress),
    options.shard === undefined ? campaign.name : `${campaign.name} ${shardLabel(shard)}`,
    byRuns
      ? { count: shardShare(shard, runs), unit: 'runs' }
      : { count: Math.ceil(budgetSeconds), unit: 's' }
  )

  let done = 0
  let items = 0
  let lastYield = performance.now()
  try {
    for (const run of shardRuns(shard, runs)) {
      if (performance.now() >= deadline) break
      const runSeed = seed + run
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
        progress.failure(
          runSeed,
          log.violations[0] ?? 'violated',
          replayCommand(campaign.name, runSeed)
        )
      }
      const now = performance.now()
      progress.update(done, failedSeeds.length, now - started)
      if (now - lastYield > 100) {
        lastYield = now
        await yieldToTimers()
      }
    }
  } finally {
    progress.stop()
    await campaign.close?.()
  }

  const first = failedSeeds[0]
  return {
    campaign: campaign.name,
    unit: campaign.unit,
    seed,
    budgetSeconds: Number.isFinite(budgetSeconds) ? budgetSeconds : null,
    plannedRuns: byRuns ? runs : null,
    ...(options.shard === undefined ? {} : { shard: { ...options.shard } }),
    runs: done,
    items,
    failures: failedSeeds.length,
    failedSeeds,
    failed,
    replay: first === undefined ? null : replayCommand(campaign.name, first),
    durationMs: Math.round(performance.now() - started),
    invariants: sortedCounts(totals.checks),
    outcomes: sortedCounts(totals.outcomes),
    machine: machine(),
    startedAt: startedAt.toISOString(),
    gitCommit: gitCommit(REPO_ROOT),
  }
}

/** The one line a campaign ends with. */
export function summaryLine(summary: CampaignSummary, file?: string): string {
  const checks = Object.values(summary.invariants).reduce((a, b) => a + b, 0)
  const shard = summary.shard === undefined ? '' : ` ${shardLabel(summary.shard)}`
  const merged =
    summary.shards === undefined ? '' : ` (merged from ${summary.shards.length} shards)`
  const parts = [
    `${summary.campaign}${shard}${merged}: ${summary.runs} runs (${summary.items} ${summary.unit}s)`,
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
