// `vtl-bench <name> <suite file> <out dir>` runs one suite and writes its part file;
// `vtl-bench --merge <parts dir> <results file> <startedAt>` joins the parts into the document.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { mergeParts, writeDocument } from './merge.js'
import { runSuite } from './run.js'
import type { BenchSuite } from './suite.js'

const [first, second, third, fourth] = process.argv.slice(2)

if (first === '--merge' && second !== undefined && third !== undefined) {
  const document = mergeParts(second, fourth ?? new Date().toISOString())
  writeDocument(third, document)
  console.log(`${third}: ${document.results.length} results`)
} else if (first !== undefined && second !== undefined && third !== undefined) {
  const mod = (await import(pathToFileURL(resolve(second)).href)) as { default: BenchSuite }
  const results = await runSuite(mod.default)
  const out = join(third, `${first}.json`)
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, JSON.stringify(results, null, 2) + '\n')
  for (const r of results) {
    const base =
      r.ratio === undefined ? '' : `  ratio ${r.ratio.toFixed(4)} vs ${r.baseline?.id ?? ''}`
    console.log(`${r.id}: ${r.value.toPrecision(6)} ${r.unit} ±${(r.rme * 100).toFixed(1)}%${base}`)
  }
} else {
  console.error(
    'usage: vtl-bench <name> <suite file> | vtl-bench --merge <parts> <out> [startedAt]'
  )
  process.exit(2)
}
