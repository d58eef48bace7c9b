import { closeSync, fdatasync, fsyncSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import { promisify } from 'node:util'
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import Database from 'better-sqlite3'
import type { TdSnapshot } from '@vtl/sim'
import { GroupCommit } from './group-commit.js'
import { recordSum, snapshotSum } from './journal-checksum.js'
import type { Watermark } from './journal-watermark.js'

// The operation journal: every mutating request is committed before the daemon acknowledges it.
// A command on a TD is queued (`queue`) and written when its group commit starts, in one
// transaction with every record queued meanwhile; other changes are written at once (`commit`).
// Transactions go to the WAL without a sync of their own (synchronous=NORMAL); the answers wait
// for a group commit that fdatasyncs the WAL, then the watermark, once for every transaction
// written meanwhile. On start the TDs are rebuilt from their latest snapshot plus the records
// after it, replayed through the deterministic engine.

/** A journaled TD creation (64-bit values as hex strings). */
export interface CreateRecord {
  op: 'td.create'
  td: string
  name: string | undefined
  vps: number
  memory: string
  gpaWidth: 48 | 52
  mbec: boolean
  /** VPs running in VTL0 at creation (absent: all). */
  startedVps?: number[]
  /** Events the TD's trace ring keeps (absent in the first vtld's records: the default). */
  traceLimit?: number
}

/** A raw hypercall as the first vtld journaled it (still replayed; new ones are `step`s). */
export interface HypercallRecord {
  op: 'hypercall'
  td: string
  vp: number
  code: number
  input: string
  repStart: number
  repCount: number
  varHeaderSize: number
  fast: boolean
}

/**
 * One guest step: the scenario-format.md step object as JSON source (`vp`, `vtl?`, one action),
 * re-parsed on replay so the file format is the one encoding of guest actions.
 */
export interface StepRecord {
  op: 'step'
  td: string
  step: string
}

/** The paravisor accepted private RAM (TDG.MEM.PAGE.ACCEPT) over `[start, end)`. */
export interface AcceptRecord {
  op: 'mem.accept'
  td: string
  start: string
  end: string
}

/** A TD built from a snapshot document (`saveTd`'s JSON form). */
export interface RestoreRecord {
  op: 'td.restore'
  td: string
  name: string | undefined
  snapshot: TdSnapshot
}

export interface DeleteRecord {
  op: 'td.delete'
  td: string
}

export type JournalRecord =
  CreateRecord | HypercallRecord | StepRecord | AcceptRecord | RestoreRecord | DeleteRecord

/** A record with its position in the journal. */
export interface JournalEntry {
  seq: number
  record: JournalRecord
}

/** The TD facts a snapshot is stored with (its create record may be compacted away). */
export interface TdMeta {
  td: string
  name: string | undefined
  vps: number
  memory: string
  gpaWidth: 48 | 52
  mbec: boolean
  /**
   * The journal seq of the record that created the TD (create or restore): `td list` order. A
   * snapshot stored before vtld kept it lacks it; replay then takes the snapshot's seq.
   */
  created?: number
}

/** A stored TD snapshot covering the TD's records up to `seq`. */
export interface StoredSnapshot {
  seq: number
  meta: TdMeta
  snapshot: TdSnapshot
}

/** An answer kept for an Idempotency-Key (`fingerprint`: method, path and body). */
export interface IdempotentAnswer {
  key: string
  fingerprint: string
  status: number
  /** The response body as sent (empty for 204, and when it was too large to keep). */
  body: string
  /** The body was not kept: its size in bytes, over the journal's `maxAnswerBytes`. */
  dropped?: number
}

/** Largest Idempotency-Key answer kept, in bytes after compression (default). */
export const MAX_ANSWER_BYTES = 64 << 10

export interface JournalOptions {
  /** Answers larger than this (compressed) keep only their status (default `MAX_ANSWER_BYTES`). */
  maxAnswerBytes?: number
}

/**
 * Schema migrations, applied in order; `schema_version` holds how many ran. A shipped migration is
 * never edited: changes are new entries.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE journal (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     td TEXT NOT NULL,
     op TEXT NOT NULL,
     body TEXT NOT NULL,
     at TEXT NOT NULL
   );
   CREATE INDEX journal_td ON journal (td);`,
  `CREATE TABLE snapshot (
     td TEXT PRIMARY KEY,
     seq INTEGER NOT NULL,
     meta TEXT NOT NULL,
     body TEXT NOT NULL,
     at TEXT NOT NULL
   );
   CREATE TABLE idempotency (
     key TEXT PRIMARY KEY,
     fingerprint TEXT NOT NULL,
     status INTEGER NOT NULL,
     body TEXT NOT NULL,
     at TEXT NOT NULL
   );`,
  `CREATE INDEX idempotency_at ON idempotency (at);`,
  // 4: a checksum per record and per snapshot (rows of older versions get theirs on migration).
  `ALTER TABLE journal ADD COLUMN sum TEXT;
   ALTER TABLE snapshot ADD COLUMN sum TEXT;`,
  // 5: answers are stored deflated (a BLOB body; older rows keep their TEXT), and an answer too
  // large to keep records only the size it had.
  `ALTER TABLE idempotency ADD COLUMN dropped INTEGER;`,
]

/** A journal row as stored (what the damage check reads). */
export interface RecordRow {
  seq: number
  td: string
  op: string
  body: string
  sum: string | null
}

/** A snapshot row as stored. */
export interface SnapshotRow {
  td: string
  seq: number
  meta: string
  body: string
  sum: string | null
}

const fdatasyncAsync = promisify(fdatasync)

/** Records queued by `queue`, written at the next group commit. */
interface Queued {
  /** The seq of the first record. */
  first: number
  records: readonly JournalRecord[]
  answer: IdempotentAnswer | undefined
  texts: readonly (string | undefined)[] | undefined
}

/** A queued command whose records could not be written (`writeFailure`). */
export class JournalWriteError extends Error {}

/** A record of a TD queued after one of its records could not be written. */
const laterRecordError = (td: string, why: string): JournalWriteError =>
  new JournalWriteError(`an earlier record of TD ${td} could not be written: ${why}`)

/**
 * The SQLite journal (better-sqlite3, WAL). A commit is written at once and durable once
 * `durable(seq)` resolves: only then may it be acknowledged.
 */
export class Journal {
  private readonly db: Database.Database
  /** The WAL file, held open for the group commit's fdatasync (none for `:memory:`). */
  private readonly walFd: number | undefined
  private readonly group: GroupCommit
  /** Commands queued since the last write, in seq order. */
  private queued: Queued[] = []
  /** The highest record seq written to the database. */
  private stored: number
  /** Queued commands that could not be written, by their last seq, until `writeFailure` takes them. */
  private readonly lost = new Map<number, JournalWriteError>()
  /**
   * TDs whose records could not be written, with why, until deleted: nothing of theirs after the
   * lost record is written (a gap a restart would replay over) or snapshotted.
   */
  private readonly failedTds = new Map<string, string>()
  private writeFailed: ((td: string) => void) | undefined
  private readonly insert: Database.Statement<[number, string, string, string, string, string]>
  /** The highest record seq ever given (deleted records keep theirs: sqlite_sequence). */
  private high: number
  private watermark: Watermark | undefined
  private readonly insertAnswer: Database.Statement<
    [string, string, number, Buffer, string, number | null]
  >
  private readonly maxAnswerBytes: number
  private readonly findAnswer: Database.Statement<[string]>
  private readonly upsertSnapshot: Database.Statement<
    [string, number, string, string, string, string]
  >
  private readonly dropCovered: Database.Statement<[string, number]>
  private readonly commitTx: (
    first: number,
    records: readonly JournalRecord[],
    answer?: IdempotentAnswer,
    texts?: readonly (string | undefined)[]
  ) => void
  private readonly batchTx: (queued: readonly Queued[]) => void
  private readonly snapshotTx: (stored: StoredSnapshot, text?: string) => void
  private readonly compactTx: () => void

  /** `file` is a path, or `:memory:` for a journal that lives as long as the process. */
  constructor(file: string, options: JournalOptions = {}) {
    this.maxAnswerBytes = options.maxAnswerBytes ?? MAX_ANSWER_BYTES
    this.db = new Database(file)
    this.db.pragma('journal_mode = WAL')
    // A commit is made durable by the group commit's sync of the WAL; SQLite still syncs the WAL
    // before each checkpoint and the database after it.
    this.db.pragma('synchronous = NORMAL')
    this.migrate()
    this.high = this.highSeq
    this.stored = this.high
    if (this.db.memory) {
      this.walFd = undefined
    } else {
      // The migration's transaction created the WAL; its directory entry is made durable once.
      this.walFd = openSync(`${this.db.name}-wal`, 'r')
      const dir = openSync(dirname(this.db.name), 'r')
      try {
        fsyncSync(dir)
      } finally {
        closeSync(dir)
      }
    }
    this.group = new GroupCommit((seq) => this.sync(seq), this.high)
    this.insert = this.db.prepare(
      'INSERT INTO journal (seq, td, op, body, at, sum) VALUES (?, ?, ?, ?, ?, ?)'
    )
    this.insertAnswer = this.db.prepare(
      'INSERT INTO idempotency (key, fingerprint, status, body, at, dropped) VALUES (?, ?, ?, ?, ?, ?)'
    )
    this.findAnswer = this.db.prepare(
      'SELECT key, fingerprint, status, body, dropped FROM idempotency WHERE key = ?'
    )
    this.upsertSnapshot = this.db.prepare(
      'INSERT OR REPLACE INTO snapshot (td, seq, meta, body, at, sum) VALUES (?, ?, ?, ?, ?, ?)'
    )
    this.dropCovered = this.db.prepare('DELETE FROM journal WHERE td = ? AND seq <= ?')
    const write = (
      at: string,
      first: number,
      records: readonly JournalRecord[],
      answer?: IdempotentAnswer,
      texts?: readonly (string | undefined)[]
    ): void => {
      for (const [i, record] of records.entries()) {
        const seq = first + i
        const body = texts?.[i] ?? JSON.stringify(record)
        this.insert.run(
          seq,
          record.td,
          record.op,
          body,
          at,
          recordSum(seq, record.td, record.op, body)
        )
      }
      if (answer !== undefined) {
        // Deflated (JSON answers shrink several times); one too large keeps its status only.
        const body = deflateRawSync(answer.body)
        const kept = body.length <= this.maxAnswerBytes
        this.insertAnswer.run(
          answer.key,
          answer.fingerprint,
          answer.status,
          kept ? body : Buffer.alloc(0),
          at,
          kept ? null : Buffer.byteLength(answer.body)
        )
      }
    }
    this.commitTx = this.db.transaction(
      (
        first: number,
        records: readonly JournalRecord[],
        answer?: IdempotentAnswer,
        texts?: readonly (string | undefined)[]
      ) => {
        write(new Date().toISOString(), first, records, answer, texts)
      }
    )
    this.batchTx = this.db.transaction((queued: readonly Queued[]) => {
      const at = new Date().toISOString()
      for (const q of queued) write(at, q.first, q.records, q.answer, q.texts)
    })
    this.snapshotTx = this.db.transaction((stored: StoredSnapshot, text?: string) => {
      const { td } = stored.meta
      const meta = JSON.stringify(stored.meta)
      const body = text ?? JSON.stringify(stored.snapshot)
      this.upsertSnapshot.run(
        td,
        stored.seq,
        meta,
        body,
        new Date().toISOString(),
        snapshotSum(td, stored.seq, meta, body)
      )
      this.dropCovered.run(td, stored.seq)
    })
    const dropDeletedSnapshots = this.db.prepare(
      "DELETE FROM snapshot WHERE td IN (SELECT td FROM journal WHERE op = 'td.delete')"
    )
    const dropDeleted = this.db.prepare(
      "DELETE FROM journal WHERE td IN (SELECT td FROM journal WHERE op = 'td.delete')"
    )
    this.compactTx = this.db.transaction(() => {
      dropDeletedSnapshots.run()
      dropDeleted.run()
    })
  }

  /** The schema version this database is at. */
  get schemaVersion(): number {
    const row = this.db.prepare('SELECT version FROM schema_version').get() as
      { version: number } | undefined
    return row?.version ?? 0
  }

  /** The highest record seq this database ever gave (0: none); queued records are written first. */
  get highSeq(): number {
    this.flush()
    const row = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'journal'").get() as
      { seq: number } | undefined
    return row?.seq ?? 0
  }

  /** Advances `watermark` with each commit group from now on (it starts at this journal's high seq). */
  attachWatermark(watermark: Watermark): void {
    this.watermark = watermark
  }

  /** Every record row as stored, in seq order (the damage check). */
  recordRows(): RecordRow[] {
    this.flush()
    return this.db
      .prepare('SELECT seq, td, op, body, sum FROM journal ORDER BY seq')
      .all() as RecordRow[]
  }

  /** Every snapshot row as stored. */
  snapshotRows(): SnapshotRow[] {
    this.flush()
    return this.db
      .prepare('SELECT td, seq, meta, body, sum FROM snapshot ORDER BY td')
      .all() as SnapshotRow[]
  }

  /** Drops a TD's records from `seq` on, and its snapshot when `snapshot` (recovery). */
  dropFrom(td: string, seq: number, snapshot: boolean): number {
    this.flush()
    return this.db.transaction(() => {
      if (snapshot) this.db.prepare('DELETE FROM snapshot WHERE td = ?').run(td)
      return this.db.prepare('DELETE FROM journal WHERE td = ? AND seq >= ?').run(td, seq).changes
    })()
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)')
    const apply = this.db.transaction(() => {
      let version = this.schemaVersion
      const summed = version >= 4
      if (version > MIGRATIONS.length) {
        throw new Error(
          `journal schema version ${version} is newer than this vtld (${MIGRATIONS.length})`
        )
      }
      if (version === 0) this.db.exec('INSERT INTO schema_version (version) VALUES (0)')
      for (; version < MIGRATIONS.length; version++) {
        this.db.exec(MIGRATIONS[version] ?? '')
        this.db.prepare('UPDATE schema_version SET version = ?').run(version + 1)
      }
      if (!summed) this.backfillSums()
    })
    apply()
  }

  /** Rows written before version 4 get their checksums (they are trusted as they are). */
  private backfillSums(): void {
    const setRecord = this.db.prepare('UPDATE journal SET sum = ? WHERE seq = ?')
    for (const row of this.recordRows()) {
      setRecord.run(recordSum(row.seq, row.td, row.op, row.body), row.seq)
    }
    const setSnapshot = this.db.prepare('UPDATE snapshot SET sum = ? WHERE td = ?')
    for (const row of this.snapshotRows()) {
      setSnapshot.run(snapshotSum(row.td, row.seq, row.meta, row.body), row.td)
    }
  }

  /**
   * Writes `records` and, when given, the answer kept for an Idempotency-Key, in one transaction
   * (a crash never leaves one without the other). Returns the last record's seq; it is durable,
   * and may be acknowledged, once `durable(seq)` resolved. `texts`: records' JSON text made
   * beforehand (a big one, in slices: `stringifySliced`).
   */
  commit(
    records: readonly JournalRecord[],
    answer?: IdempotentAnswer,
    texts?: readonly (string | undefined)[]
  ): number {
    this.flush()
    this.commitTx(this.high + 1, records, answer, texts)
    this.stored = this.given(records.length)
    for (const record of records) if (record.op === 'td.delete') this.failedTds.delete(record.td)
    return this.stored
  }

  /**
   * Like `commit`, but the records are written when the next group commit starts, in one
   * transaction with every command queued meanwhile. A command whose records could not be
   * written is named by `writeFailure(seq)` once `durable(seq)` resolved; its TD was reported to
   * `onWriteFailure` when the write failed, and its later records are refused (this throws the
   * JournalWriteError) until the TD is deleted.
   */
  queue(
    records: readonly JournalRecord[],
    answer?: IdempotentAnswer,
    texts?: readonly (string | undefined)[]
  ): number {
    const td = records[0]?.td
    const why = td === undefined ? undefined : this.failedTds.get(td)
    if (td !== undefined && why !== undefined) throw laterRecordError(td, why)
    this.queued.push({ first: this.high + 1, records, answer, texts })
    return this.given(records.length)
  }

  /** Gives the next `count` seqs (written or queued); answers the last. */
  private given(count: number): number {
    this.high += count
    this.group.wrote(this.high)
    return this.high
  }

  /** Called with a TD's id when its queued records could not be written. */
  onWriteFailure(listener: (td: string) => void): void {
    this.writeFailed = listener
  }

  /** Why a record of TD `td` could not be written, if one could not (until the TD is deleted). */
  writeFailureOf(td: string): string | undefined {
    return this.failedTds.get(td)
  }

  /** Why the queued command ending at `seq` was not written (taken once), if it was not. */
  writeFailure(seq: number): JournalWriteError | undefined {
    if (this.lost.size === 0) return undefined
    const error = this.lost.get(seq)
    this.lost.delete(seq)
    return error
  }

  /**
   * Writes the queued commands in one transaction. When it fails, each is written in its own, so
   * only the TDs whose records fail lose theirs (and every later record of theirs, for good).
   */
  private flush(): void {
    if (this.queued.length === 0) return
    const queued = this.queued
    this.queued = []
    try {
      this.batchTx(queued)
      this.stored = Math.max(this.stored, this.high)
      return
    } catch {
      // Rolled back: written one by one below.
    }
    for (const q of queued) {
      const last = q.first + q.records.length - 1
      const td = q.records[0]?.td ?? ''
      const why = this.failedTds.get(td)
      if (why !== undefined) {
        this.lost.set(last, laterRecordError(td, why))
        continue
      }
      try {
        this.commitTx(q.first, q.records, q.answer, q.texts)
        this.stored = Math.max(this.stored, last)
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        this.failedTds.set(td, message)
        this.lost.set(last, new JournalWriteError(message))
        this.writeFailed?.(td)
      }
    }
  }

  /** The highest record seq known to be on disk. */
  get durableSeq(): number {
    return this.group.durable
  }

  /** Group syncs done so far (each made every record written before it durable). */
  get syncs(): number {
    return this.group.syncs
  }

  /** Why the journal can take no more writes: a sync failed (what is on disk is unknown). */
  get failure(): string | undefined {
    return this.group.failed?.message
  }

  /** Resolves once every record up to `seq` is on disk (rejects when a sync failed). */
  durable(seq: number): Promise<void> {
    return this.group.until(seq)
  }

  /** Resolves once everything written so far is on disk. */
  settled(): Promise<void> {
    return this.group.until(this.group.high)
  }

  /**
   * One group's sync: the queued records are written, then the WAL is synced, so the watermark
   * (never past the group's last stored record) never runs ahead of the database. The mark is
   * taken before the fdatasync: a flush meanwhile (a snapshot, a compaction, a later command's
   * write) stores records this sync does not cover, past a failed one at the group's end.
   */
  private async sync(seq: number): Promise<void> {
    this.flush()
    const mark = Math.min(seq, this.stored)
    if (this.walFd !== undefined) await fdatasyncAsync(this.walFd)
    await this.watermark?.sync(mark)
  }

  /** The answer kept for an Idempotency-Key, if any. */
  answer(key: string): IdempotentAnswer | undefined {
    this.flush()
    const row = this.findAnswer.get(key) as
      | (Omit<IdempotentAnswer, 'body' | 'dropped'> & {
          body: string | Buffer
          dropped: number | null
        })
      | undefined
    if (row === undefined) return undefined
    const { dropped, body, ...rest } = row
    if (dropped !== null) return { ...rest, body: '', dropped }
    // Rows of schema version 4 and older hold the body as TEXT.
    return {
      ...rest,
      body: typeof body === 'string' ? body : inflateRawSync(body).toString('utf8'),
    }
  }

  /** Every record in journal order. */
  records(): JournalRecord[] {
    return this.entries().map((entry) => entry.record)
  }

  /** Every record with its seq, in journal order. */
  entries(): JournalEntry[] {
    this.flush()
    const rows = this.db.prepare('SELECT seq, body FROM journal ORDER BY seq').all() as {
      seq: number
      body: string
    }[]
    return rows.map((row) => ({ seq: row.seq, record: JSON.parse(row.body) as JournalRecord }))
  }

  /**
   * Stores a TD's snapshot and drops the records it covers, in one transaction. `text`: the
   * snapshot's JSON made beforehand (in slices: `stringifySliced`). Refused (JournalWriteError)
   * for a TD whose records could not be written: its state holds what its journal lacks.
   */
  saveSnapshot(stored: StoredSnapshot, text?: string): void {
    this.flush()
    const { td } = stored.meta
    const why = this.failedTds.get(td)
    if (why !== undefined) {
      throw new JournalWriteError(
        `TD ${td} is not snapshotted: its record could not be written (${why})`
      )
    }
    this.snapshotTx(stored, text)
  }

  /** The latest snapshot of every TD that has one. */
  snapshots(): StoredSnapshot[] {
    this.flush()
    const rows = this.db.prepare('SELECT seq, meta, body FROM snapshot ORDER BY td').all() as {
      seq: number
      meta: string
      body: string
    }[]
    return rows.map((row) => ({
      seq: row.seq,
      meta: JSON.parse(row.meta) as TdMeta,
      snapshot: JSON.parse(row.body) as TdSnapshot,
    }))
  }

  /** Forgets Idempotency-Key answers stored before `before`; returns how many. */
  dropAnswers(before: Date): number {
    this.flush()
    return this.db.prepare('DELETE FROM idempotency WHERE at < ?').run(before.toISOString()).changes
  }

  /** Drops everything of deleted TDs (their records and snapshots). */
  compact(): void {
    this.flush()
    this.compactTx()
  }

  /** Closes the database; the files a running sync holds are closed once it is done. */
  close(): void {
    if (!this.db.open) return
    // Queued records are written (never acknowledged unsynced: a later open finds them).
    this.flush()
    this.db.close()
    const watermark = this.watermark
    this.watermark = undefined
    const walFd = this.walFd
    void this.group.idle().then(() => {
      watermark?.close()
      if (walFd !== undefined) closeSync(walFd)
    })
  }
}
