/** Mean and 95 % relative margin of error (normal approximation, as tinybench reports it). */
export function summarize(samples: readonly number[]): { mean: number; rme: number } {
  const n = samples.length
  if (n === 0) return { mean: 0, rme: 0 }
  const mean = samples.reduce((a, b) => a + b, 0) / n
  if (n < 2 || mean === 0) return { mean, rme: 0 }
  const variance = samples.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)
  const sem = Math.sqrt(variance / n)
  return { mean, rme: (1.96 * sem) / Math.abs(mean) }
}
