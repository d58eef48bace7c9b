#!/usr/bin/env node
// Runs a TypeScript benchmark suite on sources (the @vtl/source condition) through tsx and writes
// its results to <repo>/bench/parts/<name>.json, which `pnpm bench` merges into bench/results.json.
import { spawnSync } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const [name, file] = process.argv.slice(2)
if (name === undefined || file === undefined) {
  console.error('usage: vtl-bench <name> <suite file>')
  process.exit(2)
}
const outDir = process.env.VTL_BENCH_OUT ?? resolve(here, '../../../bench/parts')
const run = spawnSync(
  process.execPath,
  ['--conditions=@vtl/source', '--import', 'tsx', join(here, '../src/cli.ts'), name, file, outDir],
  { stdio: 'inherit' }
)
process.exit(run.status ?? 1)
