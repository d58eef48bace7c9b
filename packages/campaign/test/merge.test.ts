import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { InvariantLog } from '../src/invariant-log.js'
import {
  checkShards,
  mergeShards,
  readShardSummaries,
  type ShardSummaryFile,
} from '../src/merge.js'
import { productionText, reliabilitySection } from '../src/reliability-section.js'
import { runCampaign, writeSummary, type Campaign, type RunnerOptions } from '../src/runner.js'

/** Fails seeds divisible by 7 and tallies the parity of each seed (so counts differ by shard). */
function fake(): Campaign {
  return {
    name: 'fake',
    unit: 'thing',
    defaultRuns: 30,
    defaultBudgetSeconds: Number.POSITIVE_INFINITY,
    run(seed: number, log: InvariantLog): number {
      log.check('seed not divisible by 7', seed % 7 !== 0, () => `seed ${seed}`)
      log.tally(seed % 2 === 0 ? 'even' : 'odd')
      if (seed % 3 === 0) log.check('threes', true)
      return seed % 4
    },
  }
}

async function shards(count: number, options: RunnerOptions = {}): Promise<ShardSummaryFile[]> {
  const files: ShardSummaryFile[] = []
  for (let index = 1; index <= count; index++) {
    const summary = await runCampaign(fake(), {
      seed: 5,
      progress: false,
      ...options,
      shard: { index, count },
    })
    files.push({ file: `s${index}.json`, summary: { ...summary, shard: { index, count } } })
  }
  return files
}

/** The message of the `VtlError` E_INVALID_VALUE that `fn(arg)` throws. */
function messageOf<A>(fn: (arg: A) => unknown, arg: A): string {
  try {
    fn(arg)
  } catch (error) {
    expect(error).toMatchObject({ code: 'E_INVALID_VALUE' })
    return (error as Error).message
  }
  throw new Error('did not throw')
}

describe('mergeShards', () => {
  it('sums runs, items, failures, failed seeds and every count into the unsharded summary', async () => {
    const whole = await runCampaign(fake(), { seed: 5, progress: false })
    const merged = mergeShards(await shards(3))
    for (const key of [
      'campaign',
      'unit',
      'seed',
      'budgetSeconds',
      'plannedRuns',
      'runs',
      'items',
      'failures',
      'failedSeeds',
      'failed',
      'replay',
      'invariants',
      'outcomes',
      'gitCommit',
    ] as const) {
      expect(merged[key], key).toEqual(whole[key])
    }
    expect(merged.failedSeeds).toEqual([7, 14, 21, 28])
    expect(merged.shard).toBeUndefined()
    expect(merged.shards?.map((s) => [s.index, s.runs, s.failedSeeds])).toEqual([
      [1, 10, [14]],
      [2, 10, [21]],
      [3, 10, [7, 28]],
    ])
  })

  it('keeps the first failures in full, as an unsharded run does', async () => {
    const many: Campaign = {
      ...fake(),
      run: (seed, log) => (log.check('odd', seed % 2 === 1), 1),
    }
    const whole = await runCampaign(many, { seed: 0, runs: 60, progress: false })
    const parts: ShardSummaryFile[] = []
    for (const index of [1, 2, 3, 4]) {
      const shard = { index, count: 4 }
      const summary = await runCampaign(many, { seed: 0, runs: 60, shard, progress: false })
      parts.push({ file: `${index}.json`, summary: { ...summary, shard } })
    }
    expect(whole.failed).toHaveLength(20)
    expect(mergeShards(parts).failed).toEqual(whole.failed)
  })

  it('names a missing and a duplicated shard', async () => {
    const [one, two, three] = await shards(3)
    if (one === undefined || two === undefined || three === undefined) throw new Error('3 shards')
    expect(messageOf(checkShards, [one, three])).toContain('shard 2/3 is missing')
    const twice = messageOf(checkShards, [one, two, { ...two, file: 'copy.json' }, three])
    expect(twice).toContain('shard 2/3 appears 2 times: s2.json, copy.json')
  })

  it('refuses shards of different runs, counts or campaigns, naming the file', async () => {
    const [one, two] = await shards(2)
    const [, other] = await shards(2, { seed: 6 })
    const [, longer] = await shards(2, { runs: 40 })
    const [, ofThree] = await shards(3)
    if (!one || !two || !other || !longer || !ofThree) throw new Error('shards')
    expect(messageOf(checkShards, [one, { ...other, file: 'x.json' }])).toContain(
      'x.json: seed 6, but s1.json has 5'
    )
    expect(messageOf(checkShards, [one, { ...longer, file: 'y.json' }])).toContain(
      'y.json: plannedRuns 40, but s1.json has 30'
    )
    expect(messageOf(checkShards, [one, two, { ...ofThree, file: 'z.json' }])).toContain(
      'z.json: shard 2/3, but s1.json is one of 2 shards'
    )
    const renamed = { ...two, summary: { ...two.summary, campaign: 'other' } }
    expect(messageOf(checkShards, [one, renamed])).toContain(
      's2.json: campaign "other", but s1.json has "fake"'
    )
  })

  it('refuses a shard that stopped short of its share without a budget, or claims a foreign seed', async () => {
    const [one, two] = await shards(2)
    if (!one || !two) throw new Error('shards')
    const short = { ...two, summary: { ...two.summary, runs: 9 } }
    expect(messageOf(checkShards, [one, short])).toContain(
      's2.json: shard 2/2 ran 9 runs, its share is 15'
    )
    const foreign = { ...two, summary: { ...two.summary, failedSeeds: [7], failures: 1 } }
    expect(messageOf(checkShards, [one, foreign])).toContain(
      "s2.json: seed 7 is not one of shard 2/2's runs"
    )
  })

  it('with a budget, shards that ran different numbers of runs merge', async () => {
    const parts = await shards(2, { budgetSeconds: 60, runs: 8 })
    const [one, two] = parts
    if (!one || !two) throw new Error('shards')
    const cut = { ...two, summary: { ...two.summary, runs: 2 } }
    expect(mergeShards([one, cut]).runs).toBe(6)
  })
})

describe('readShardSummaries', () => {
  it('reads files and folders (recursively, .json only) and refuses what is not a shard summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'merge-'))
    const parts = await shards(2)
    for (const [at, part] of parts.entries()) {
      writeSummary(part.summary, join(dir, `artifact-${at}`, 'summary.json'))
    }
    writeFileSync(join(dir, 'notes.txt'), 'not a summary')
    const read = readShardSummaries([dir])
    expect(read.map((r) => r.summary.shard)).toEqual([
      { index: 1, count: 2 },
      { index: 2, count: 2 },
    ])
    const whole = await runCampaign(fake(), { progress: false })
    writeSummary(whole, join(dir, 'whole.json'))
    expect(messageOf(readShardSummaries, [dir])).toMatch(/whole\.json: not a shard summary/)
    writeFileSync(join(dir, 'whole.json'), '{"shard":{"index":1,"count":2}}')
    expect(messageOf(readShardSummaries, [dir])).toMatch(/missing or malformed `campaign`/)
    writeFileSync(join(dir, 'whole.json'), '{')
    expect(messageOf(readShardSummaries, [dir])).toMatch(/whole\.json: /)
    const empty = join(dir, 'empty')
    mkdirSync(empty)
    expect(messageOf(readShardSummaries, [empty])).toMatch(/no shard summaries/)
    expect(messageOf(readShardSummaries, [join(dir, 'absent')])).toMatch(/absent/)
  })
})

describe('the RELIABILITY.md section', () => {
  it('says how the figures were produced and lists a merged summary’s shards', async () => {
    const merged = mergeShards(await shards(2))
    const whole = await runCampaign(fake(), { seed: 5, progress: false })
    expect(productionText(whole)).toBe(
      '`fake`: one unsharded process (`pnpm campaign fake`) on the machine below.'
    )
    expect(productionText(merged)).toMatch(
      /^`fake`: 2 shards \(`pnpm campaign fake --shard i\/2`\) on one kind of machine, merged by `pnpm campaign merge`/
    )
    const section = reliabilitySection(merged)
    expect(section[0]).toBe('## `fake`')
    expect(section).toContain('Merged from 2 shards:')
    expect(section.filter((line) => /^\| [12]\/2 \|/.test(line))).toHaveLength(2)
    expect(section.join('\n')).toContain('replay: `pnpm campaign fake --seed 7 --runs 1`')
    expect(reliabilitySection(whole)).not.toContain('Merged from 2 shards:')
  })
})
