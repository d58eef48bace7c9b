// Entry of `vtl-bench <name> <suite file>`: runs one package's suite and writes its part file.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { runSuite } from './run.js'
import type { BenchSuite } from './suite.js'

const [name, file, outDir] = process.argv.slice(2)
if (name === undefined || file === undefined || outDir === undefined) {
  console.error('usage: vtl-bench <name> <suite file>')
  process.exit(2)
}
const mod = (await import(pathToFileURL(resolve(file)).href)) as { default: BenchSuite }
const results = await runSuite(mod.default)
const out = join(outDir, `${name}.json`)
mkdirSync(dirname(out), { recursive: true })
writeFileSync(out, JSON.stringify(results, null, 2) + '\n')
for (const r of results) {
  const ratio = r.ratio === undefined ? '' : `  ratio ${r.ratio.toFixed(4)} vs ${r.baseline?.id ?? ''}`
  console.log(`${r.id}: ${r.value.toPrecision(6)} ${r.unit} ±${(r.rme * 100).toFixed(1)}%${ratio}`)
}
