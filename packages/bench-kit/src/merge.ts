import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { BenchDocument, BenchResult } from './document.js'
import { machine } from './machine.js'

/** Joins the part files of one `pnpm bench` run into the bench-format.md document. */
export function mergeParts(partsDir: string, startedAt: string): BenchDocument {
  const results = readdirSync(partsDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((f) => JSON.parse(readFileSync(join(partsDir, f), 'utf8')) as BenchResult[])
  return { version: 1, machine: machine(), startedAt, results }
}

export function writeDocument(path: string, document: BenchDocument): void {
  writeFileSync(path, JSON.stringify(document, null, 2) + '\n')
}
