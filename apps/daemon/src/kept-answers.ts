import { MAX_ANSWER_BYTES, type IdempotentAnswer } from './journal.js'

/** Bounds of the kept answers (defaults: 24 h, 10 000 answers, 64 MiB, `MAX_ANSWER_BYTES`). */
export interface KeptAnswersOptions {
  /** Milliseconds an answer is kept. */
  ttlMs?: number
  /** Answers kept at most: the oldest go first. */
  maxEntries?: number
  /** Bytes of keys, fingerprints and bodies kept at most: the oldest go first. */
  maxBytes?: number
  /** A larger body is not kept, only its status and size (a retry: E_ANSWER_NOT_KEPT). */
  maxAnswerBytes?: number
}

interface Kept {
  answer: IdempotentAnswer
  at: number
  td: string | undefined
  bytes: number
}

/**
 * Idempotency-Key answers of hardware-path commands, which journal nothing: kept in memory while
 * their TD lives, for `ttlMs` at most, and within a count and a byte budget, so a retry replays
 * the first answer instead of opening a second TD or running a step twice.
 */
export class KeptAnswers {
  /** In the order they were kept (a key kept again moves to the end): the oldest first. */
  private readonly answers = new Map<string, Kept>()
  private bytes = 0
  private readonly ttlMs: number
  private readonly maxEntries: number
  private readonly maxBytes: number
  private readonly maxAnswerBytes: number

  constructor(options: KeptAnswersOptions = {}) {
    this.ttlMs = options.ttlMs ?? 24 * 3600 * 1000
    this.maxEntries = options.maxEntries ?? 10_000
    this.maxBytes = options.maxBytes ?? 64 << 20
    this.maxAnswerBytes = options.maxAnswerBytes ?? MAX_ANSWER_BYTES
  }

  /** Answers kept now. */
  get size(): number {
    return this.answers.size
  }

  /** Keeps `answer` (at `at`, ms since the epoch), of TD `td`; expires and evicts the oldest. */
  keep(answer: IdempotentAnswer, at: number, td?: string): void {
    const size = Buffer.byteLength(answer.body)
    const kept: IdempotentAnswer =
      size > this.maxAnswerBytes ? { ...answer, body: '', dropped: size } : answer
    this.remove(answer.key)
    const bytes = answer.key.length + answer.fingerprint.length + Buffer.byteLength(kept.body)
    this.answers.set(answer.key, { answer: kept, at, td, bytes })
    this.bytes += bytes
    this.dropBefore(at - this.ttlMs)
    for (const key of this.answers.keys()) {
      if (this.answers.size <= this.maxEntries && this.bytes <= this.maxBytes) break
      this.remove(key)
    }
  }

  get(key: string): IdempotentAnswer | undefined {
    return this.answers.get(key)?.answer
  }

  /** Forgets the answers kept before `time` (ms since the epoch), as the journal's expire. */
  dropBefore(time: number): void {
    // Oldest first: the scan stops at the first one still kept.
    for (const [key, kept] of this.answers) {
      if (kept.at >= time) break
      this.remove(key)
    }
  }

  /** Forgets the answers of TD `td` (deleted). */
  dropTd(td: string): void {
    for (const [key, kept] of this.answers) if (kept.td === td) this.remove(key)
  }

  private remove(key: string): void {
    const kept = this.answers.get(key)
    if (kept === undefined) return
    this.answers.delete(key)
    this.bytes -= kept.bytes
  }
}
