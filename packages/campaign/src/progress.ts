import cliProgress from 'cli-progress'

/** How a campaign shows its progress on stderr. */
export type ProgressMode = 'bar' | 'lines' | 'none'

/** Seconds between two progress lines (`lines`: CI logs, pods, anything without a terminal). */
const LINE_INTERVAL_MS = 30_000

export interface ProgressView {
  /** `done` runs so far at `elapsedMs`. */
  update(done: number, failures: number, elapsedMs: number): void
  /** A failed run, as soon as it is known (`lines` only: the bar shows the count). */
  failure(seed: number, violation: string, replay: string): void
  stop(): void
}

/**
 * The progress of one campaign process: a redrawn bar on a terminal, or a line every 30 s and one
 * per failed run where output is a log (a CI job or a pod), each line led by `label` (the
 * campaign and its shard) so that interleaved logs of many shards stay readable.
 */
export function createProgress(
  mode: ProgressMode,
  label: string,
  total: { count: number; unit: 'runs' | 's' }
): ProgressView {
  const stream = process.stderr
  if (mode === 'bar') {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} [{bar}] {value}/{total} ${total.unit} | {failures} failures | {duration_formatted}`,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic
    )
    bar.start(total.count, 0, { failures: 0 })
    return {
      update: (done, failures, elapsedMs) => {
        bar.update(total.unit === 'runs' ? done : Math.floor(elapsedMs / 1000), { failures })
      },
      failure: () => undefined,
      stop: () => {
        bar.stop()
      },
    }
  }
  if (mode === 'lines') {
    let next = LINE_INTERVAL_MS
    const of = total.unit === 'runs' ? `/${total.count}` : ''
    return {
      update: (done, failures, elapsedMs) => {
        if (elapsedMs < next) return
        next = elapsedMs + LINE_INTERVAL_MS
        const seconds = Math.round(elapsedMs / 1000)
        stream.write(`${label}: ${done}${of} runs, ${failures} failures, ${seconds} s\n`)
      },
      failure: (seed, violation, replay) => {
        stream.write(`${label}: FAIL seed ${seed}: ${violation} (replay: ${replay})\n`)
      },
      stop: () => undefined,
    }
  }
  return { update: () => undefined, failure: () => undefined, stop: () => undefined }
}
