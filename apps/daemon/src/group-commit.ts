// Group commit: journal transactions are written without a sync of their own, and each answer
// waits for one sync that started after its write. While a sync runs, the writes made meanwhile
// gather for the next one, so a burst of commands costs one fsync per group, not one per command,
// and nothing is acknowledged before it is on disk.
//
// A group's sync has two steps in order: its data (the WAL), then its mark (the watermark, which
// must never claim data that is not on disk). The next group's data step runs while this group's
// mark is written: data steps run one at a time, so do marks, and a group is answered when its
// mark is done.

interface Waiter {
  seq: number
  resolve: () => void
  reject: (error: Error) => void
}

/** Tracks the highest written and the highest durable journal position (record seq). */
export class GroupCommit {
  private written: number
  private synced: number
  private running: Promise<void> | undefined
  private failure: Error | undefined
  private waiters: Waiter[] = []
  private groups = 0
  /** Set while `run` waits for marks only: a new waiter's group need not wait for them. */
  private wake: (() => void) | undefined

  /**
   * `sync(seq)` makes every write up to `seq` durable (the WAL); `mark(seq)`, run after it, records
   * that (the watermark).
   */
  constructor(
    private readonly sync: (seq: number) => Promise<void>,
    seq = 0,
    private readonly mark: (seq: number) => Promise<void> = () => Promise.resolve()
  ) {
    this.written = seq
    this.synced = seq
  }

  /** The highest position that is on disk. */
  get durable(): number {
    return this.synced
  }

  /** The highest position written (durable or not). */
  get high(): number {
    return this.written
  }

  /** Syncs done so far (one per group). */
  get syncs(): number {
    return this.groups
  }

  /** The failed sync, if one failed (every later `until` rejects with it). */
  get failed(): Error | undefined {
    return this.failure
  }

  /** A transaction up to `seq` was written (not synced yet). */
  wrote(seq: number): void {
    if (seq > this.written) this.written = seq
  }

  /**
   * Resolves once every write up to `seq` is durable (at once when it already is); rejects when
   * a sync failed (what is on disk is then unknown, and so is every later write).
   */
  until(seq: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (seq <= this.synced) return Promise.resolve()
    const waiting = new Promise<void>((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject })
    })
    this.wake?.()
    this.running ??= this.run()
    return waiting
  }

  /** Resolves when no sync is running (what `close` waits for before closing the files). */
  async idle(): Promise<void> {
    await this.running
  }

  private async run(): Promise<void> {
    // The marks in flight (each waits for the one before it), and how far the data steps got.
    let marking: Promise<void> | undefined
    let unsettled = 0
    let data = this.synced
    try {
      for (;;) {
        // A settled mark is taken (a failed one throws here).
        if (marking !== undefined && unsettled === 0) {
          await marking
          marking = undefined
        }
        if (this.waiters.some((waiter) => waiter.seq > data)) {
          // Every write made before this point is in the group; later ones wait for the next.
          const target = this.written
          await this.sync(target)
          data = target
          const previous = marking
          unsettled++
          marking = (async () => {
            try {
              await previous
              await this.mark(target)
              this.settle(target)
            } finally {
              unsettled--
            }
          })()
          // Taken above or below; a failure meanwhile must not count as unhandled.
          marking.catch(() => undefined)
          continue
        }
        if (marking === undefined) break
        // The marks are being written: wait for them, or for a write's waiter (its group's data
        // step runs meanwhile).
        const marks = marking
        await new Promise<void>((resolve) => {
          this.wake = resolve
          marks.then(resolve, resolve)
        })
        this.wake = undefined
      }
    } catch (error) {
      this.failure = new Error(
        `the journal sync failed (${error instanceof Error ? error.message : String(error)}); ` +
          'writes since the last sync may be lost'
      )
      for (const waiter of this.waiters.splice(0)) waiter.reject(this.failure)
      // A mark still being written settles nothing now, and is waited for (its file stays open).
      await marking?.catch(() => undefined)
    }
    this.running = undefined
  }

  /** Group `target` is durable: its waiters are answered. */
  private settle(target: number): void {
    if (this.failure !== undefined) return
    this.groups++
    this.synced = Math.max(this.synced, target)
    const waiting = this.waiters
    this.waiters = []
    for (const waiter of waiting) {
      if (waiter.seq <= this.synced) waiter.resolve()
      else this.waiters.push(waiter)
    }
  }
}
