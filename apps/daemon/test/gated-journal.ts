import { Journal } from '../src/journal.js'

/** A journal whose group syncs wait for the test's go (`hold` closes the gate, `release` opens it). */
export class GatedJournal extends Journal {
  private open: () => void = () => undefined
  private gate = Promise.resolve()
  hold(): void {
    this.gate = new Promise<void>((resolve) => (this.open = resolve))
  }
  release(): void {
    this.open()
  }
  override durable(seq: number): Promise<void> {
    return this.gate.then(() => super.durable(seq))
  }
}
