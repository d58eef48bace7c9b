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

export interface LiveStatus {
  /** The bar at `done` of `total`, with `label` after it. */
  show(done: number, total: number, label: string): void
  stop(): void
}

const NO_STATUS: LiveStatus = { show: () => undefined, stop: () => undefined }

/**
 * One line of status on stderr for work whose parts are not items: a bar, a label and the time
 * so far, redrawn on a timer, so it moves while another thread does the work. Only on a TTY.
 */
export function liveStatus(stream: NodeJS.WriteStream = process.stderr): LiveStatus {
  if (!stream.isTTY) return NO_STATUS
  const bar = new SingleBar({
    stream,
    format: '{bar} {label} {duration_formatted}',
    hideCursor: true,
    clearOnComplete: true,
    fps: 10,
  })
  bar.start(1, 0, { label: '' })
  return {
    show: (done, total, label) => {
      bar.setTotal(Math.max(total, 1))
      bar.update(done, { label })
    },
    stop: () => {
      bar.stop()
    },
  }
}
