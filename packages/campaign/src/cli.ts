import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CAMPAIGNS, type CampaignName } from './campaigns.js'
import { REPO_ROOT, runCampaign, summaryLine, writeSummary } from './runner.js'

// vtl-campaign <name> [--budget seconds] [--seed N] [--runs N] [--out FILE]

const USAGE = `usage: vtl-campaign <${Object.keys(CAMPAIGNS).join('|')}> [options]
  --budget S   stop starting runs after S seconds (then runs are unlimited unless --runs)
  --seed N     first seed (run i uses N + i; default 1)
  --runs N     stop after N runs (--seed N --runs 1 replays one run)
  --out FILE   JSON summary (default campaign-results/<name>.json at the repository root)
`

function count(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined
  const value = Number(text)
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${flag} must be a number ≥ 0`)
  return value
}

async function main(argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        budget: { type: 'string' },
        seed: { type: 'string' },
        runs: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (error) {
    process.stderr.write(`vtl-campaign: ${(error as Error).message}\n${USAGE}`)
    return 2
  }
  const { values, positionals } = parsed
  if (values.help === true) {
    process.stdout.write(USAGE)
    return 0
  }
  const name = positionals[0]
  if (positionals.length !== 1 || name === undefined || !(name in CAMPAIGNS)) {
    process.stderr.write(`vtl-campaign: name one campaign\n${USAGE}`)
    return 2
  }
  let budgetSeconds, seed, runs
  try {
    budgetSeconds = count(values.budget, '--budget')
    seed = count(values.seed, '--seed')
    runs = count(values.runs, '--runs')
    if (seed !== undefined && !Number.isSafeInteger(seed))
      throw new RangeError('--seed must be an integer')
  } catch (error) {
    process.stderr.write(`vtl-campaign: ${(error as Error).message}\n${USAGE}`)
    return 2
  }
  const campaign = CAMPAIGNS[name as CampaignName]()
  const summary = await runCampaign(campaign, {
    ...(budgetSeconds === undefined ? {} : { budgetSeconds }),
    ...(seed === undefined ? {} : { seed }),
    ...(runs === undefined ? {} : { runs }),
  })
  const out = values.out ?? join(REPO_ROOT, 'campaign-results', `${name}.json`)
  writeSummary(summary, out)
  // The first failures' violations, then the one summary line the campaign ends with.
  for (const failure of summary.failed.slice(0, 3)) {
    process.stdout.write(`seed ${failure.seed}: ${failure.violations.join('; ')}\n`)
  }
  process.stdout.write(summaryLine(summary, out) + '\n')
  return summary.failures === 0 ? 0 : 1
}

process.exitCode = await main(process.argv.slice(2))
