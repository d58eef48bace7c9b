import type { ValueCase } from '@vtl/bench-kit'

/** What one latency run measures. */
export interface Percentiles {
  p50: number
  p99: number
}

/**
 * The p99 and p50 cases of one latency measure, in that order (keep it: bench-kit samples the
 * cases of a round in the suite's order). p50 and p99 of a recorded round come from the same run:
 * the p99 case always measures a fresh run and leaves its p50; the p50 case, sampled right after
 * it, takes that figure, and measures a run of its own only when there is none (its warm-up
 * samples after the first, which bench-kit runs back to back).
 */
export function latencyPair(
  id: (p: 'p50' | 'p99') => string,
  measure: () => Promise<Percentiles>,
  note: string,
  p99Target?: ValueCase['target']
): [ValueCase, ValueCase] {
  let leftOver: number | undefined
  const base = { kind: 'value', unit: 'ms', better: 'lower', note } as const
  return [
    {
      ...base,
      id: id('p99'),
      ...(p99Target === undefined ? {} : { target: p99Target }),
      sample: async () => {
        const figures = await measure()
        leftOver = figures.p50
        return figures.p99
      },
    },
    {
      ...base,
      id: id('p50'),
      sample: async () => {
        const kept = leftOver
        leftOver = undefined
        return kept ?? (await measure()).p50
      },
    },
  ]
}
