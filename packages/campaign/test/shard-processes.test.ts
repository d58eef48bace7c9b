import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, vi } from 'vitest'
import { runCli } from '../src/cli.js'
import type { CampaignSummary } from '../src/runner.js'
import { PLANTED_CAMPAIGNS, PLANTED_SEED } from './fixtures/planted-campaigns.js'

const PACKAGE = join(dirname(fileURLToPath(import.meta.url)), '..')
const CLI = join(PACKAGE, 'test/fixtures/planted-cli.ts')
const RUNS = ['--runs', '24', '--seed', '1']

interface Exit {
  code: number | null
  stdout: string
  stderr: string
}

/** `vtl-campaign` (with the planted campaigns) as its own process, on sources through tsx. */
function cli(args: string[]): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@vtl/source', '--import', 'tsx', CLI, ...args],
      { cwd: PACKAGE, stdio: ['ignore', 'pipe', 'pipe'] }
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      resolve({ code, stdout, stderr })
    })
  })
}

const read = (file: string): CampaignSummary =>
  JSON.parse(readFileSync(file, 'utf8')) as CampaignSummary

/** What must not depend on how the runs were split (everything but time and place). */
const VARYING = new Set(['durationMs', 'startedAt', 'machine', 'shards'])
function counts(s: CampaignSummary): Record<string, unknown> {
  return Object.fromEntries(Object.entries(s).filter(([key]) => !VARYING.has(key)))
}

/** `runCli` in this process with its output captured. */
async function inProcess(args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = ''
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk)
    return true
  })
  try {
    return { code: await runCli(args, PLANTED_CAMPAIGNS), stdout }
  } finally {
    spy.mockRestore()
  }
}

describe('shards as separate processes, merged', () => {
  it('n = 1, 2 and 4 give exactly the unsharded counts and failures; the planted failure shows up once, in its shard', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'campaign-shards-'))
    const unsharded = join(dir, 'unsharded.json')
    const whole = await inProcess(['faults', ...RUNS, '--out', unsharded])
    expect(whole.code).toBe(1)
    const expected = read(unsharded)
    expect(expected.runs).toBe(24)
    expect(expected.failedSeeds).toEqual([PLANTED_SEED])
    expect(expected.replay).toBe(`pnpm campaign faults --seed ${PLANTED_SEED} --runs 1`)

    const jobs = [1, 2, 4].flatMap((n) =>
      Array.from({ length: n }, (_, i) => ({
        n,
        index: i + 1,
        file: join(dir, `n${n}`, `faults-${i + 1}-of-${n}.json`),
      }))
    )
    // Two processes at a time: the machine has two cores.
    const exits: Exit[] = []
    for (let at = 0; at < jobs.length; at += 2) {
      exits.push(
        ...(await Promise.all(
          jobs
            .slice(at, at + 2)
            .map((job) =>
              cli(['faults', ...RUNS, '--shard', `${job.index}/${job.n}`, '--out', job.file])
            )
        ))
      )
    }
    for (const [at, job] of jobs.entries()) {
      const exit = exits[at]
      const owner = ((PLANTED_SEED - 1) % job.n) + 1
      const shard = read(job.file)
      expect(shard.shard).toEqual({ index: job.index, count: job.n })
      expect(shard.machine.host).toBeTypeOf('string')
      if (job.index === owner) {
        // The failing shard says so, with the seed's one-line local replay, as it happens.
        expect(exit?.code, exit?.stderr).toBe(1)
        expect(shard.failedSeeds).toEqual([PLANTED_SEED])
        const replay = `replay: pnpm campaign faults --seed ${PLANTED_SEED} --runs 1`
        expect(exit?.stdout).toContain(replay)
        expect(exit?.stderr).toContain(
          `faults shard ${job.index}/${job.n}: FAIL seed ${PLANTED_SEED}`
        )
      } else {
        expect(exit?.code, exit?.stderr).toBe(0)
        expect(shard.failedSeeds).toEqual([])
      }
    }

    for (const n of [1, 2, 4]) {
      const out = join(dir, `merged-${n}.json`)
      const merged = await inProcess(['merge', join(dir, `n${n}`), '--out', out])
      expect(merged.code).toBe(1)
      const summary = read(out)
      expect(counts(summary)).toEqual(counts(expected))
      expect(summary.shards?.map((s) => s.index)).toEqual(
        Array.from({ length: n }, (_, i) => i + 1)
      )
      expect(summary.shards?.filter((s) => s.failedSeeds.includes(PLANTED_SEED))).toHaveLength(1)
      expect(merged.stdout).toMatch(
        new RegExp(
          `shard ${((PLANTED_SEED - 1) % n) + 1}/${n} on .*1 failures \\(seeds ${PLANTED_SEED}\\)`
        )
      )
      expect(readFileSync(out.replace(/\.json$/, '.md'), 'utf8')).toContain(
        `Merged from ${n} shards:`
      )
    }
  }, 120_000)

  it('a missing shard is an error naming it, exit 2 (the process, not just the function)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'campaign-missing-'))
    const only = join(dir, 'faults-2-of-3.json')
    const ran = await inProcess(['faults', '--runs', '3', '--shard', '2/3', '--out', only])
    expect(ran.code).toBe(0)
    const exit = await cli(['merge', dir, '--out', join(dir, 'merged.json')])
    expect(exit.code).toBe(2)
    expect(exit.stderr).toContain('shard 1/3 is missing')
    expect(exit.stderr).toContain('shard 3/3 is missing')
  }, 60_000)
})
