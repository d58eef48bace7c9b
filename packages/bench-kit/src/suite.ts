interface CaseBase {
  /** `<package>.<benchmark>`, exactly as bench-format.md lists it. */
  id: string
  note?: string
  target?: { value: number; unit: string }
  /** Id of another case of the same suite, measured interleaved with this one. */
  baseline?: string
  /** Measured only to serve as another case's baseline; not listed on its own. */
  baselineOnly?: boolean
}

/** Operations per second of `op`, called in batches so the timer's cost does not count. */
export interface ThroughputCase extends CaseBase {
  kind: 'throughput'
  op: () => unknown
}

/** Any other figure: each call of `sample` yields one sample (a time in µs, a byte count, …). */
export interface ValueCase extends CaseBase {
  kind: 'value'
  unit: string
  better: 'higher' | 'lower'
  sample: () => number | Promise<number>
}

export type BenchCase = ThroughputCase | ValueCase

export interface BenchSuite {
  /** Package short name (`core`, `memory`, …): the part file is `bench/parts/<name>.json`. */
  name: string
  cases: BenchCase[]
  /** Samples per case (default 10). */
  samples?: number
  /** Runs once after the last sample, whatever happened (stops servers a suite started). */
  teardown?: () => void | Promise<void>
}

export function defineSuite(suite: BenchSuite): BenchSuite {
  const ids = new Set(suite.cases.map((c) => c.id))
  if (ids.size !== suite.cases.length) throw new Error(`suite ${suite.name}: duplicate case ids`)
  for (const c of suite.cases) {
    if (c.baseline !== undefined && !ids.has(c.baseline)) {
      throw new Error(`suite ${suite.name}: ${c.id} names unknown baseline ${c.baseline}`)
    }
  }
  return suite
}
