import type { IdempotentAnswer } from './journal.js'

/**
 * Idempotency-Key answers of hardware-path commands, which journal nothing: kept in memory, as
 * long as the TDs they touched live (the daemon's life), so a retry replays the first answer
 * instead of opening a second TD or running a step twice.
 */
export class KeptAnswers {
  private readonly answers = new Map<string, { answer: IdempotentAnswer; at: number }>()

  keep(answer: IdempotentAnswer, at: number): void {
    this.answers.set(answer.key, { answer, at })
  }

  get(key: string): IdempotentAnswer | undefined {
    return this.answers.get(key)?.answer
  }

  /** Forgets the answers kept before `time` (ms since the epoch), as the journal's expire. */
  dropBefore(time: number): void {
    for (const [key, kept] of this.answers) if (kept.at < time) this.answers.delete(key)
  }
}
