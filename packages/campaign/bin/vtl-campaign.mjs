#!/usr/bin/env node
// Runs a reliability campaign on sources (the @vtl/source condition) through tsx:
//   vtl-campaign <faults|fuzz|isolation|concurrency|crash> [--budget S] [--seed N] [--runs N] [--shard i/n]
//   vtl-campaign merge <shard summaries or folders> [--out FILE]
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
    join(here, '../src/main.ts'),
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' }
)
process.exit(run.status ?? 1)
