#!/usr/bin/env node
// Runs TypeScript benchmark suites on sources (the @vtl/source condition) through tsx.
//   vtl-bench <name> <suite file>   → <repo>/bench/parts/<name>.json (or $VTL_BENCH_OUT)
//   vtl-bench --merge <parts> <out> → the bench-format.md document
import { spawnSync } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
if (args[0] !== '--merge') {
  if (args.length !== 2) {
    console.error('usage: vtl-bench <name> <suite file> | vtl-bench --merge <parts> <out>')
    process.exit(2)
  }
  args.push(process.env.VTL_BENCH_OUT ?? resolve(here, '../../../bench/parts'))
}
const run = spawnSync(
  process.execPath,
  // --expose-gc: the runner collects between samples (see measure.ts).
  [
    '--expose-gc',
    '--conditions=@vtl/source',
    '--import',
    'tsx',
    join(here, '../src/cli.ts'),
    ...args,
  ],
  { stdio: 'inherit' }
)
process.exit(run.status ?? 1)
