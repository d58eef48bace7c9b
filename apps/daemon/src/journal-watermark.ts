import {
  closeSync,
  constants,
  fdatasync,
  fdatasyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  write,
  writeSync,
} from 'node:fs'
import { createHash } from 'node:crypto'
import { promisify } from 'node:util'

// The journal's high-water mark, outside the database: the highest record seq ever committed,
// fsynced with each commit group. A database that is behind it (its WAL deleted, cut or garbled, the
// file replaced by an empty one) lost acknowledged records, and vtld refuses to start on it.
// Format: one fixed-width line `vtld-watermark <seq> <check>`, rewritten in place.

export const WATERMARK_FILE = 'vtld.watermark'

const check = (seq: number): string =>
  createHash('sha256').update(`vtld-watermark ${seq}`).digest('hex').slice(0, 16)

const line = (seq: number): string =>
  `vtld-watermark ${String(seq).padStart(16, '0')} ${check(seq)}\n`

const writeAsync = promisify(write)
const fdatasyncAsync = promisify(fdatasync)

/**
 * Writes through to the disk (`O_DSYNC`, where the platform has it): a group's watermark is one
 * write, not a write and an fdatasync (each a trip through the thread pool and the event loop).
 */
const DSYNC = (constants as { O_DSYNC?: number }).O_DSYNC

/** What the watermark file says: a seq, absent, or unreadable (damaged). */
export type WatermarkState = { seq: number } | 'absent' | 'damaged'

/** Reads a watermark file. */
export function readWatermark(path: string): WatermarkState {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent'
    return 'damaged'
  }
  const match = /^vtld-watermark (\d{16}) ([0-9a-f]{16})\n$/.exec(text)
  const seq = Number(match?.[1])
  return match !== null && Number.isSafeInteger(seq) && match[2] === check(seq)
    ? { seq }
    : 'damaged'
}

/** The open watermark file of a running journal. */
export class Watermark {
  private readonly fd: number
  private seq: number

  constructor(path: string, seq: number) {
    // In place (never truncated): a crash mid-write cannot leave an empty mark.
    const { O_RDWR, O_CREAT, O_EXCL } = constants
    try {
      this.fd = openSync(path, O_RDWR | (DSYNC ?? 0))
    } catch {
      this.fd = openSync(path, O_RDWR | O_CREAT | O_EXCL | (DSYNC ?? 0), 0o600)
    }
    this.seq = -1
    this.advance(seq)
    // A damaged (longer) mark being replaced loses its tail.
    ftruncateSync(this.fd, line(seq).length)
  }

  /** Records `seq` (when higher than the mark) and syncs it to disk before returning. */
  advance(seq: number): void {
    if (seq <= this.seq) return
    const text = line(seq)
    writeSync(this.fd, text, 0, 'utf8')
    if (DSYNC === undefined) fdatasyncSync(this.fd)
    this.seq = seq
  }

  /** `advance` off the main thread (the group commit's second sync). */
  async sync(seq: number): Promise<void> {
    if (seq <= this.seq) return
    await writeAsync(this.fd, line(seq), 0, 'utf8')
    if (DSYNC === undefined) await fdatasyncAsync(this.fd)
    this.seq = Math.max(this.seq, seq)
  }

  close(): void {
    closeSync(this.fd)
  }
}
