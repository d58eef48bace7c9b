// One serialised command queue: each command starts after the previous one settled.

/** A promise chain; `run` resolves with the command's value, in submission order. */
export class CommandQueue {
  private tail: Promise<unknown> = Promise.resolve()
  private pending = 0

  /** Commands submitted and not yet settled. */
  get depth(): number {
    return this.pending
  }

  run<T>(command: () => T | Promise<T>): Promise<T> {
    this.pending++
    const result = this.tail.then(command)
    this.tail = result.then(
      () => {
        this.pending--
      },
      () => {
        this.pending--
      }
    )
    return result
  }

  /** Resolves once every command submitted so far has settled. */
  async drain(): Promise<void> {
    await this.tail
  }
}
