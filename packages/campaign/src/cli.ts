import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { VtlError } from '@vtl/core'
import { CAMPAIGNS } from './campaigns.js'
import { mergeShards, readShardSummaries } from './merge.js'
import { reliabilitySection } from './reliability-section.js'
import {
  REPO_ROOT,
  replayCommand,
  runCampaign,
  summaryLine,
  writeSummary,
  type Campaign,
  type CampaignSummary,
} from './runner.js'
import { parseShard, shardLabel, type Shard } from './shard.js'

// vtl-campaign <name> [--budget S] [--seed N] [--runs N] [--shard i/n] [--out FILE]
// vtl-campaign merge <files or folders> [--out FILE]

function usage(campaigns: Record<string, unknown>): string {
  return `usage: vtl-campaign <${Object.keys(campaigns).join('|')}> [options]
  --budget S    stop starting runs after S seconds (then runs are unlimited unless --runs)
  --seed N      first seed (run i uses N + i; default 1)
  --runs N      stop after N runs (--seed N --runs 1 replays one run)
  --shard i/n   run only shard i of n (1 ≤ i ≤ n) of those runs; merge the n summaries after
  --out FILE    JSON summary (default campaign-results/<name>.json at the repository root,
                campaign-results/shards/<name>-<i>-of-<n>.json with --shard)
       vtl-campaign merge <shard summaries or folders of them> [--out FILE]
                checks they are the n shards of one run, writes the merged summary (default
                campaign-results/<name>.json) and its RELIABILITY.md section (<out>.md)
`
}

function count(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined
  const value = Number(text)
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${flag} must be a number ≥ 0`)
  return value
}

const write = (text: string): void => {
  process.stdout.write(text + '\n')
}

/** The first failures' violations, each with the command that replays it on any machine. */
function reportFailures(summary: CampaignSummary): void {
  for (const failure of summary.failed.slice(0, 3)) {
    write(
      `seed ${failure.seed}: ${failure.violations.join('; ')} ` +
        `(replay: ${replayCommand(summary.campaign, failure.seed)})`
    )
  }
}

async function runOne(
  name: string,
  values: { budget?: string; seed?: string; runs?: string; shard?: string; out?: string },
  campaigns: Record<string, () => Campaign>,
  help: string
): Promise<number> {
  let budgetSeconds, seed, runs
  let shard: Shard | undefined
  try {
    budgetSeconds = count(values.budget, '--budget')
    seed = count(values.seed, '--seed')
    runs = count(values.runs, '--runs')
    if (seed !== undefined && !Number.isSafeInteger(seed))
      throw new RangeError('--seed must be an integer')
    if (values.shard !== undefined) shard = parseShard(values.shard)
  } catch (error) {
    process.stderr.write(`vtl-campaign: ${(error as Error).message}\n${help}`)
    return 2
  }
  const create = campaigns[name]
  if (create === undefined) return 2
  const summary = await runCampaign(create(), {
    ...(budgetSeconds === undefined ? {} : { budgetSeconds }),
    ...(seed === undefined ? {} : { seed }),
    ...(runs === undefined ? {} : { runs }),
    ...(shard === undefined ? {} : { shard }),
    progress: process.stderr.isTTY ? 'bar' : 'lines',
  })
  const out =
    values.out ??
    (shard === undefined
      ? join(REPO_ROOT, 'campaign-results', `${name}.json`)
      : join(
          REPO_ROOT,
          'campaign-results',
          'shards',
          `${name}-${shard.index}-of-${shard.count}.json`
        ))
  writeSummary(summary, out)
  reportFailures(summary)
  write(summaryLine(summary, out))
  return summary.failures === 0 ? 0 : 1
}

function merge(paths: string[], outFlag: string | undefined): number {
  let summary
  try {
    summary = mergeShards(readShardSummaries(paths))
  } catch (error) {
    if (!VtlError.isInstance(error)) throw error
    process.stderr.write(`vtl-campaign merge: ${error.message}\n`)
    return 2
  }
  const out = outFlag ?? join(REPO_ROOT, 'campaign-results', `${summary.campaign}.json`)
  const sectionFile = out.replace(/\.json$/, '') + '.md'
  writeSummary(summary, out)
  writeFileSync(sectionFile, reliabilitySection(summary).join('\n'))
  for (const shard of summary.shards ?? []) {
    const label = shardLabel({ index: shard.index, count: summary.shards?.length ?? 0 })
    const seeds = shard.failedSeeds.slice(0, 10).join(', ')
    write(
      `${label} on ${shard.machine.host}: ${shard.runs} runs, ${shard.failures} failures` +
        `${shard.failures > 0 ? ` (seeds ${seeds}${shard.failures > 10 ? ', …' : ''})` : ''}, ` +
        `${(shard.durationMs / 1000).toFixed(1)} s`
    )
  }
  reportFailures(summary)
  write(summaryLine(summary, out))
  write(`RELIABILITY.md section → ${sectionFile}`)
  return summary.failures === 0 ? 0 : 1
}

/**
 * `vtl-campaign`'s command line: runs one campaign (or one shard of it), or merges shard
 * summaries. Exit 0 without failures, 1 with, 2 on bad usage or summaries that do not merge.
 * `campaigns` is the table of runnable campaigns (tests add planted ones).
 */
export async function runCli(
  argv: string[],
  campaigns: Record<string, () => Campaign> = CAMPAIGNS
): Promise<number> {
  const help = usage(campaigns)
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        budget: { type: 'string' },
        seed: { type: 'string' },
        runs: { type: 'string' },
        shard: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (error) {
    process.stderr.write(`vtl-campaign: ${(error as Error).message}\n${help}`)
    return 2
  }
  const { values, positionals } = parsed
  if (values.help === true) {
    process.stdout.write(help)
    return 0
  }
  const [name, ...rest] = positionals
  if (name === 'merge') {
    const runOnly = (['budget', 'seed', 'runs', 'shard'] as const).filter((f) => f in values)
    if (rest.length === 0 || runOnly.length > 0) {
      process.stderr.write(`vtl-campaign merge: name the shard summaries (and only --out)\n${help}`)
      return 2
    }
    return merge(rest, values.out)
  }
  if (name === undefined || rest.length > 0 || !(name in campaigns)) {
    process.stderr.write(`vtl-campaign: name one campaign\n${help}`)
    return 2
  }
  return runOne(name, values, campaigns, help)
}
