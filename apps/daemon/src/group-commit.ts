// Group commit: journal transactions are written without a sync of their own, and each answer
// waits for one sync that started after its write. While a sync runs, the writes made meanwhile
// gather for the next one, so a burst of commands costs one fsync per group, not one per command,
// and nothing is acknowledged before it is on disk.

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

  /** `sync(seq)` makes every write up to `seq` durable (the WAL, then the watermark). */
  constructor(
    private readonly sync: (seq: number) => Promise<void>,
    seq = 0
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
    this.running ??= this.run()
    return waiting
  }

  /** Resolves when no sync is running (what `close` waits for before closing the files). */
  async idle(): Promise<void> {
    await this.running
  }

  private async run(): Promise<void> {
    while (this.waiters.length > 0) {
      // Every write made before this point is in the group; later ones wait for the next.
      const target = this.written
      try {
        await this.sync(target)
      } catch (error) {
        this.failure = new Error(
          `the journal sync failed (${error instanceof Error ? error.message : String(error)}); ` +
            'writes since the last sync may be lost'
        )
        for (const waiter of this.waiters.splice(0)) waiter.reject(this.failure)
        break
      }
      this.groups++
      this.synced = Math.max(this.synced, target)
      const waiting = this.waiters
      this.waiters = []
      for (const waiter of waiting) {
        if (waiter.seq <= this.synced) waiter.resolve()
        else this.waiters.push(waiter)
      }
    }
    this.running = undefined
  }
}
