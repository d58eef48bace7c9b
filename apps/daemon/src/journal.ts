import Database from 'better-sqlite3'

// The operation journal: every mutating request is appended (and committed, WAL) before the daemon
// acknowledges it; on start the TDs are rebuilt by replaying it through the deterministic engine.

/** A journaled TD creation (64-bit values as hex strings). */
export interface CreateRecord {
  op: 'td.create'
  td: string
  name: string | undefined
  vps: number
  memory: string
  gpaWidth: 48 | 52
  mbec: boolean
}

/** A journaled raw hypercall as the guest issued it. */
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

export interface DeleteRecord {
  op: 'td.delete'
  td: string
}

export type JournalRecord = CreateRecord | HypercallRecord | DeleteRecord

/** Schema migrations, applied in order; `schema_version` holds how many ran. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE journal (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     td TEXT NOT NULL,
     op TEXT NOT NULL,
     body TEXT NOT NULL,
     at TEXT NOT NULL
   );
   CREATE INDEX journal_td ON journal (td);`,
]

/** The SQLite journal (better-sqlite3, WAL, synchronous=FULL so a commit survives a kill -9). */
export class Journal {
  private readonly db: Database.Database
  private readonly insert: Database.Statement<[string, string, string, string]>

  constructor(file: string) {
    this.db = new Database(file)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = FULL')
    this.migrate()
    this.insert = this.db.prepare('INSERT INTO journal (td, op, body, at) VALUES (?, ?, ?, ?)')
  }

  /** The schema version this database is at. */
  get schemaVersion(): number {
    const row = this.db.prepare('SELECT version FROM schema_version').get() as
      { version: number } | undefined
    return row?.version ?? 0
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)')
    const apply = this.db.transaction(() => {
      let version = this.schemaVersion
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
    })
    apply()
  }

  /** Appends one record (committed when this returns). */
  append(record: JournalRecord): void {
    this.insert.run(record.td, record.op, JSON.stringify(record), new Date().toISOString())
  }

  /** Every record in journal order. */
  records(): JournalRecord[] {
    const rows = this.db.prepare('SELECT body FROM journal ORDER BY seq').all() as {
      body: string
    }[]
    return rows.map((row) => JSON.parse(row.body) as JournalRecord)
  }

  close(): void {
    if (this.db.open) this.db.close()
  }
}
