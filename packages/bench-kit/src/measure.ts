import type { BenchCase, ThroughputCase } from './suite.js'

const SAMPLE_NS = 50_000_000n
// Results land here so the optimiser cannot drop the measured calls.
const sink: { value: unknown } = { value: undefined }

/** Finds a batch size whose run takes about one sample time. */
function calibrate(op: () => unknown): number {
  let batch = 1
  for (;;) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < batch; i++) sink.value = op()
    const elapsed = process.hrtime.bigint() - start
    if (elapsed >= SAMPLE_NS / 4n || batch >= 1 << 30) {
      const perOp = Number(elapsed) / batch
      return Math.max(1, Math.round(Number(SAMPLE_NS) / Math.max(perOp, 0.001)))
    }
    batch *= 4
  }
}

/**
 * Cases are sampled round-robin, so every sample starts right after another case ran: its first
 * milliseconds run code whose type feedback and optimisation the other case may just have changed
 * (shared functions re-optimised, caches refilled), a cost that belongs to neither case. An
 * untimed eighth of the batch first lets that settle. It does not remove a noisy machine's own
 * swings: on the 2-core VM we measure on, samples of the same op still differ by up to ±15 %.
 */
const REWARM_SHIFT = 3

export function throughputSample(c: ThroughputCase, batch: number): number {
  const op = c.op
  for (let i = batch >> REWARM_SHIFT; i > 0; i--) sink.value = op()
  const start = process.hrtime.bigint()
  for (let i = 0; i < batch; i++) sink.value = op()
  const elapsed = Number(process.hrtime.bigint() - start)
  return (batch * 1e9) / elapsed
}

/**
 * A full collection before each sample when the runner exposes it (`vtl-bench` does): otherwise
 * a case that builds a large heap (a 1024-VP TD) leaves its garbage to whichever case samples
 * next, and that case's figure pays for the other's collection.
 */
const collect = (globalThis as { gc?: () => void }).gc

/** Unrecorded samples of a value case before its first recorded one. */
const VALUE_WARMUP_SAMPLES = 3

/**
 * Takes `samples` samples of every case, round-robin, so that a figure and its baseline see the
 * same machine conditions.
 */
export async function sampleAll(
  cases: readonly BenchCase[],
  samples: number
): Promise<Map<string, number[]>> {
  const batches = new Map<string, number>()
  for (const c of cases) {
    // Calibration doubles as the throughput cases' warm-up; a value case gets unrecorded samples,
    // so that no figure includes the first, unoptimised runs of its code (a 1024-VP boot needed
    // three before its time settled).
    if (c.kind === 'throughput') batches.set(c.id, calibrate(c.op))
    else for (let i = 0; i < VALUE_WARMUP_SAMPLES; i++) await c.sample()
  }
  const out = new Map<string, number[]>(cases.map((c) => [c.id, []]))
  for (let round = 0; round < samples; round++) {
    for (const c of cases) {
      collect?.()
      const value =
        c.kind === 'throughput' ? throughputSample(c, batches.get(c.id) ?? 1) : await c.sample()
      out.get(c.id)?.push(value)
    }
  }
  return out
}
