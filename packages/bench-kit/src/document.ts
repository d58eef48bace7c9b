/** The benchmark results document of `bench-format.md` (version 1). Keep field names exact. */
export interface BenchDocument {
  version: 1
  machine: Machine
  startedAt: string
  results: BenchResult[]
}

export interface Machine {
  cpus: number
  cpuModel: string
  node: string
  os: string
}

export interface Figure {
  id: string
  value: number
  unit: string
}

export interface BenchResult extends Figure {
  better: 'higher' | 'lower'
  baseline?: Figure
  /** value / baseline.value, both measured in the same run. */
  ratio?: number
  target?: { value: number; unit: string }
  samples: number
  /** Relative margin of error of the mean (95 %). */
  rme: number
  note?: string
}
