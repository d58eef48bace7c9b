import { SingleBar } from 'cli-progress'

export interface Progress {
  /** `done` more items (default 1), now at `label`. */
  tick(label: string, done?: number): void
  stop(): void
}

const NONE: Progress = { tick: () => undefined, stop: () => undefined }

/**
 * A progress bar on stderr for `total` items of long work: only when stderr is a TTY and there is
 * more than one item (scripts and pipes see nothing).
 */
export function progressBar(total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || total < 2) return NONE
  const bar = new SingleBar({
    stream,
    format: '{bar} {value}/{total} {label}',
    hideCursor: true,
    clearOnComplete: true,
    // Redraw at most this often; a chunked run yields between chunks, so the timer gets its turn.
    fps: 10,
  })
  bar.start(total, 0, { label: '' })
  return {
    tick: (label, done = 1) => {
      bar.increment(done, { label })
    },
    stop: () => {
      bar.stop()
    },
  }
}
