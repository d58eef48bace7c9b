import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { VtlError } from '@vtl/core'
import {
  MAX_FAILED_DETAILS,
  replayCommand,
  sortedCounts,
  type CampaignSummary,
  type ShardRecord,
} from './runner.js'
import { shardLabel, shardOfRun, shardShare, type Shard } from './shard.js'

/** A shard summary and the file it came from (named in every error about it). */
export interface ShardSummaryFile {
  file: string
  summary: CampaignSummary & { shard: Shard }
}

function invalid(message: string, field: string): VtlError {
  return new VtlError('E_INVALID_VALUE', message, { field })
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
const isCounts = (value: unknown): value is Record<string, number> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Object.values(value).every(isCount)

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const isFailedRun = (value: unknown): boolean =>
  isRecord(value) && Number.isSafeInteger(value.seed) && Array.isArray(value.violations)

/** The fields a merge reads, checked before it trusts them (a summary is a file from anywhere). */
function shardSummary(file: string, s: unknown): ShardSummaryFile['summary'] {
  const problem = (what: string) => invalid(`${file}: ${what}`, file)
  if (!isRecord(s)) throw problem('not a campaign summary')
  if (s.shard === undefined) {
    throw problem('not a shard summary (no `shard`: was it written with --shard i/n?)')
  }
  const shard = isRecord(s.shard) ? s.shard : {}
  const { index, count } = shard
  if (!isCount(count) || count < 1 || !isCount(index) || index < 1 || index > count) {
    throw problem(`bad shard ${JSON.stringify(s.shard)}`)
  }
  const checks: [keyof CampaignSummary, boolean][] = [
    ['campaign', typeof s.campaign === 'string'],
    ['unit', typeof s.unit === 'string'],
    ['seed', Number.isSafeInteger(s.seed)],
    ['budgetSeconds', s.budgetSeconds === null || typeof s.budgetSeconds === 'number'],
    ['plannedRuns', s.plannedRuns === null || isCount(s.plannedRuns)],
    ['runs', isCount(s.runs)],
    ['items', isCount(s.items)],
    ['failures', isCount(s.failures)],
    [
      'failedSeeds',
      Array.isArray(s.failedSeeds) && s.failedSeeds.every((seed) => Number.isSafeInteger(seed)),
    ],
    ['failed', Array.isArray(s.failed) && s.failed.every(isFailedRun)],
    ['durationMs', isCount(s.durationMs)],
    ['invariants', isCounts(s.invariants)],
    ['outcomes', isCounts(s.outcomes)],
    ['machine', isRecord(s.machine)],
    ['startedAt', typeof s.startedAt === 'string'],
    ['gitCommit', s.gitCommit === null || typeof s.gitCommit === 'string'],
  ]
  for (const [field, ok] of checks) if (!ok) throw problem(`missing or malformed \`${field}\``)
  return s as unknown as ShardSummaryFile['summary']
}

/** Every `.json` file named or under a named folder (recursively: CI artifacts nest). */
function jsonFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path]
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const full = join(path, entry.name)
      if (entry.isDirectory()) return jsonFiles(full)
      return entry.name.endsWith('.json') ? [full] : []
    })
}

/** Reads the shard summaries in `paths` (files, or folders of `.json` files). */
export function readShardSummaries(paths: readonly string[]): ShardSummaryFile[] {
  const files = paths.flatMap((path) => {
    try {
      return jsonFiles(path)
    } catch (error) {
      throw invalid(`${path}: ${(error as Error).message}`, path)
    }
  })
  if (files.length === 0) throw invalid('no shard summaries (.json) to merge', 'files')
  return files.map((file) => {
    let value: unknown
    try {
      value = JSON.parse(readFileSync(file, 'utf8'))
    } catch (error) {
      throw invalid(`${file}: ${(error as Error).message}`, file)
    }
    return { file, summary: shardSummary(file, value) }
  })
}

/** The fields every shard of one campaign run shares (`--seed`, `--runs`, `--budget`, n…). */
const SHARED = ['campaign', 'unit', 'seed', 'plannedRuns', 'budgetSeconds', 'gitCommit'] as const

/**
 * Checks that `inputs` are the shards of one campaign run (one campaign, seed, run count, budget,
 * commit and shard count n) with every shard 1…n exactly once, each with its whole share of runs
 * unless a time budget stopped it; throws a `VtlError` naming every problem otherwise.
 */
export function checkShards(inputs: readonly ShardSummaryFile[]): void {
  const problems: string[] = []
  const [first] = inputs
  if (first === undefined) throw invalid('no shard summaries to merge', 'files')
  const count = first.summary.shard.count
  for (const { file, summary } of inputs) {
    for (const field of SHARED) {
      if (summary[field] !== first.summary[field]) {
        problems.push(
          `${file}: ${field} ${JSON.stringify(summary[field])}, but ${first.file} has ` +
            JSON.stringify(first.summary[field])
        )
      }
    }
    if (summary.shard.count !== count) {
      problems.push(
        `${file}: ${shardLabel(summary.shard)}, but ${first.file} is one of ${count} shards`
      )
    }
  }
  if (problems.length === 0) {
    const byIndex = new Map<number, string[]>()
    for (const { file, summary } of inputs) {
      byIndex.set(summary.shard.index, [...(byIndex.get(summary.shard.index) ?? []), file])
    }
    for (let index = 1; index <= count; index++) {
      const files = byIndex.get(index) ?? []
      const label = shardLabel({ index, count })
      if (files.length === 0) problems.push(`${label} is missing`)
      if (files.length > 1)
        problems.push(`${label} appears ${files.length} times: ${files.join(', ')}`)
    }
    for (const { file, summary } of inputs) {
      const { plannedRuns, budgetSeconds, seed } = summary
      const share = shardShare(summary.shard, plannedRuns ?? Number.POSITIVE_INFINITY)
      const label = shardLabel(summary.shard)
      if (summary.runs > share || (budgetSeconds === null && summary.runs !== share)) {
        problems.push(`${file}: ${label} ran ${summary.runs} runs, its share is ${share}`)
      }
      const foreign = summary.failedSeeds.find(
        (s) => s < seed || shardOfRun(s - seed, count) !== summary.shard.index
      )
      if (foreign !== undefined) {
        problems.push(`${file}: seed ${foreign} is not one of ${label}'s runs`)
      }
      if (summary.failures !== summary.failedSeeds.length) {
        problems.push(
          `${file}: ${summary.failures} failures but ${summary.failedSeeds.length} seeds`
        )
      }
    }
  }
  if (problems.length > 0) {
    throw invalid(`cannot merge these shard summaries:\n  ${problems.join('\n  ')}`, 'shards')
  }
}

function sum(records: readonly Record<string, number>[]): Record<string, number> {
  const total = new Map<string, number>()
  for (const record of records) {
    for (const [name, n] of Object.entries(record)) total.set(name, (total.get(name) ?? 0) + n)
  }
  return sortedCounts(total)
}

/**
 * The summary of the whole campaign from its shards (checked by `checkShards`): the counts an
 * unsharded run of the same `--runs`/`--seed` writes (runs, items, failures and their seeds, the
 * first failures in full, every invariant and outcome count, the replay), the longest shard's
 * duration (the wall time of shards run side by side), the earliest start, shard 1's machine, and
 * `shards`: what each shard ran, where.
 */
export function mergeShards(inputs: readonly ShardSummaryFile[]): CampaignSummary {
  checkShards(inputs)
  const shards = inputs.map((input) => input.summary).sort((a, b) => a.shard.index - b.shard.index)
  const [first] = shards
  if (first === undefined) throw invalid('no shard summaries to merge', 'files')
  const failedSeeds = shards.flatMap((s) => s.failedSeeds).sort((a, b) => a - b)
  const firstFailure = failedSeeds[0]
  const records: ShardRecord[] = shards.map((s) => ({
    index: s.shard.index,
    runs: s.runs,
    items: s.items,
    failures: s.failures,
    failedSeeds: s.failedSeeds,
    durationMs: s.durationMs,
    startedAt: s.startedAt,
    machine: s.machine,
  }))
  return {
    campaign: first.campaign,
    unit: first.unit,
    seed: first.seed,
    budgetSeconds: first.budgetSeconds,
    plannedRuns: first.plannedRuns,
    shards: records,
    runs: shards.reduce((n, s) => n + s.runs, 0),
    items: shards.reduce((n, s) => n + s.items, 0),
    failures: failedSeeds.length,
    failedSeeds,
    // Each shard kept its first failures: the first of all of them are among those.
    failed: shards
      .flatMap((s) => s.failed)
      .sort((a, b) => a.seed - b.seed)
      .slice(0, MAX_FAILED_DETAILS),
    replay: firstFailure === undefined ? null : replayCommand(first.campaign, firstFailure),
    durationMs: Math.max(...shards.map((s) => s.durationMs)),
    invariants: sum(shards.map((s) => s.invariants)),
    outcomes: sum(shards.map((s) => s.outcomes)),
    machine: first.machine,
    startedAt: shards.map((s) => s.startedAt).sort()[0] ?? first.startedAt,
    gitCommit: first.gitCommit,
  }
}
