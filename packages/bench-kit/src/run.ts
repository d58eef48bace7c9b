import type { BenchResult, Figure } from './document.js'
import { sampleAll } from './measure.js'
import { summarize } from './stats.js'
import type { BenchCase, BenchSuite } from './suite.js'

function unitOf(c: BenchCase): string {
  return c.kind === 'throughput' ? 'ops/s' : c.unit
}

function betterOf(c: BenchCase): 'higher' | 'lower' {
  return c.kind === 'throughput' ? 'higher' : c.better
}

/** Runs a suite and returns its results in the document's shape. */
export async function runSuite(suite: BenchSuite): Promise<BenchResult[]> {
  let samples: Map<string, number[]>
  try {
    samples = await sampleAll(suite.cases, suite.samples ?? 10)
  } catch (error) {
    // The sample's error is the one to see: a teardown failing after it (a server already gone)
    // is told, not thrown in its place.
    try {
      await suite.teardown?.()
    } catch (teardownError) {
      process.stderr.write(`bench ${suite.name}: teardown failed too: ${String(teardownError)}\n`)
    }
    throw error
  }
  await suite.teardown?.()
  const figures = new Map<string, Figure & { rme: number; n: number }>()
  for (const c of suite.cases) {
    const values = samples.get(c.id) ?? []
    const { mean, rme } = summarize(values)
    figures.set(c.id, { id: c.id, value: mean, unit: unitOf(c), rme, n: values.length })
  }
  const results: BenchResult[] = []
  for (const c of suite.cases) {
    if (c.baselineOnly === true) continue
    const figure = figures.get(c.id)
    if (figure === undefined) continue
    const result: BenchResult = {
      id: c.id,
      value: figure.value,
      unit: figure.unit,
      better: betterOf(c),
      samples: figure.n,
      rme: figure.rme,
    }
    const base = c.baseline === undefined ? undefined : figures.get(c.baseline)
    if (base !== undefined) {
      result.baseline = { id: base.id, value: base.value, unit: base.unit }
      result.ratio = base.value === 0 ? 0 : figure.value / base.value
    }
    if (c.target !== undefined) result.target = c.target
    if (c.note !== undefined) result.note = c.note
    results.push(result)
  }
  return results
}
