#!/usr/bin/env node
// `pnpm bench`: runs every package's benchmark suites one after another (never in parallel: the
// figures would disturb each other), merges the parts into bench/results.json and writes
// BENCHMARKS.md from it (`vtl bench --markdown`, run from the CLI's sources).
import { spawnSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const parts = join(root, 'bench', 'parts')
rmSync(parts, { recursive: true, force: true })
mkdirSync(parts, { recursive: true })
const startedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')

function run(command, args, env = {}) {
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  })
  if (result.status !== 0) process.exit(result.status ?? 1)
}

// Re-use the pnpm that runs this script (it may come through npx and not be on PATH).
const execPath = process.env.npm_execpath
const pnpm = execPath?.endsWith('js') ? [process.execPath, execPath] : ['pnpm']
run(
  pnpm[0],
  [...pnpm.slice(1), '-r', '--workspace-concurrency=1', '--if-present', 'run', 'bench'],
  {
    VTL_BENCH_OUT: parts,
  }
)
run(process.execPath, [
  join(root, 'packages/bench-kit/bin/vtl-bench.mjs'),
  '--merge',
  parts,
  join(root, 'bench', 'results.json'),
  startedAt,
])

const markdown = spawnSync(
  process.execPath,
  [
    '--conditions=@vtl/source',
    '--import',
    'tsx',
    join(root, 'apps/cli/src/main.ts'),
    'bench',
    '--from',
    join(root, 'bench', 'results.json'),
    '--markdown',
  ],
  { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }
)
if (markdown.status !== 0) process.exit(markdown.status ?? 1)
writeFileSync(join(root, 'BENCHMARKS.md'), markdown.stdout)
console.log('BENCHMARKS.md written from bench/results.json')
