#!/usr/bin/env node
// Runs a reliability campaign on sources (the @vtl/source condition) through tsx:
//   vtl-campaign <faults|fuzz|isolation|concurrency|crash> [--budget S] [--seed N] [--runs N]
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const run = spawnSync(
  process.execPath,
  [
    '--conditions=@vtl/source',
    '--import',
    import.meta.resolve('tsx'),
    join(here, '../src/cli.ts'),
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' }
)
process.exit(run.status ?? 1)
