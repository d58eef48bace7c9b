#!/usr/bin/env node
// `pnpm reliability`: runs every campaign at its full budget, one after another, then writes
// RELIABILITY.md from the JSON summaries in campaign-results/. `--render` only rewrites the file
// from the summaries already there (never by hand: every figure comes from a run), including those
// `pnpm campaign merge` wrote from the shards of a campaign run on many machines.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tsImport } from 'tsx/esm/api'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const CAMPAIGNS = ['faults', 'fuzz', 'isolation', 'concurrency', 'crash']
const renderOnly = process.argv.includes('--render')

if (!renderOnly) {
  for (const name of CAMPAIGNS) {
    // A failing campaign still writes its summary; RELIABILITY.md shows the failure.
    spawnSync(process.execPath, [join(root, 'packages/campaign/bin/vtl-campaign.mjs'), name], {
      cwd: root,
      stdio: 'inherit',
    })
  }
}

const summaries = CAMPAIGNS.map((name) => join(root, 'campaign-results', `${name}.json`))
  .filter((file) => existsSync(file))
  .map((file) => JSON.parse(readFileSync(file, 'utf8')))
if (summaries.length === 0) {
  console.error('no campaign summaries in campaign-results/: run `pnpm reliability` first')
  process.exit(1)
}

// The sections are the campaign package's, so that a merge writes the same ones.
const { machineText, productionText, reliabilitySection } = await tsImport(
  '../packages/campaign/src/reliability-section.ts',
  import.meta.url
)
const int = (n) => n.toLocaleString('en-US')
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`
const checks = (s) => Object.values(s.invariants).reduce((a, b) => a + b, 0)
const commits = [...new Set(summaries.map((s) => s.gitCommit?.slice(0, 12) ?? 'unknown'))]
// Where the unsharded runs ran (a merged campaign's section lists its shards' machines).
const machines = [
  ...new Set(summaries.filter((s) => s.shards === undefined).map((s) => machineText(s.machine))),
]

const lines = [
  '# Reliability',
  '',
  'Written by `pnpm reliability` from the JSON summaries of a real run of every campaign at its',
  'full budget (`campaign-results/<name>.json`); never edited by hand. What each campaign does and',
  'checks: [packages/campaign/README.md](packages/campaign/README.md).',
  '',
  'How the figures were produced:',
  '',
  ...summaries.map((s) => `- ${productionText(s)}`),
  '',
  ...(machines.length > 0
    ? [`Machine: ${machines.join('; ')}. Commit ${commits.join(', ')}.`]
    : [`Commit ${commits.join(', ')}.`]),
  '',
  '| campaign | started | runs | covered | failures | invariant checks | seed | duration |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...summaries.map(
    (s) =>
      `| \`${s.campaign}\` | ${s.startedAt.replace(/\.\d+Z$/, 'Z')} | ${int(s.runs)} | ` +
      `${int(s.items)} ${s.unit}s | ${s.failures} | ${int(checks(s))} | ${s.seed} | ${seconds(s.durationMs)} |`
  ),
  '',
]
for (const s of summaries) lines.push(...reliabilitySection(s))
lines.push(
  '## Reproduce',
  '',
  '```sh',
  'npx -y pnpm@10.34.9 install',
  'npx -y pnpm@10.34.9 reliability            # every campaign at full budget, then this file',
  'npx -y pnpm@10.34.9 campaign fuzz --seed 1 --runs 1   # one run, replayed exactly',
  '# or on n machines: shard i of n each, then merge the summaries and render this file',
  'npx -y pnpm@10.34.9 campaign fuzz --shard 1/4 --out shards/fuzz-1.json   # … up to --shard 4/4',
  'npx -y pnpm@10.34.9 campaign merge shards/ && npx -y pnpm@10.34.9 reliability --render',
  '```',
  ''
)
// The attack table is written by hand (what was tried against vtld, what held): kept as it is.
const ATTACKS = '\n## Attack table'
const previous = existsSync(join(root, 'RELIABILITY.md'))
  ? readFileSync(join(root, 'RELIABILITY.md'), 'utf8')
  : ''
const attacks = previous.includes(ATTACKS) ? previous.slice(previous.indexOf(ATTACKS)) : ''
writeFileSync(join(root, 'RELIABILITY.md'), lines.join('\n') + attacks)
console.log(`RELIABILITY.md written from ${summaries.length} campaign summaries`)
