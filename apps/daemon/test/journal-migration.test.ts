import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { Journal } from '../src/journal.js'
import { TdService } from '../src/td-service.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A database exactly as the first vtld left it: schema version 1, `hypercall` records. */
function firstVtldDatabase(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vtld-v1-'))
  dirs.push(dir)
  const file = join(dir, 'vtld.sqlite')
  const db = new Database(file)
  db.exec(`CREATE TABLE schema_version (version INTEGER NOT NULL);
    INSERT INTO schema_version (version) VALUES (1);
    CREATE TABLE journal (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      td TEXT NOT NULL,
      op TEXT NOT NULL,
      body TEXT NOT NULL,
      at TEXT NOT NULL
    );
    CREATE INDEX journal_td ON journal (td);`)
  const insert = db.prepare('INSERT INTO journal (td, op, body, at) VALUES (?, ?, ?, ?)')
  const records = [
    {
      op: 'td.create',
      td: 'td-old',
      name: 'old',
      vps: 2,
      memory: '0x1000000',
      gpaWidth: 48,
      mbec: true,
    },
    {
      op: 'hypercall',
      td: 'td-old',
      vp: 0,
      code: 13,
      input: 'ffffffffffffffff0100000000000000',
      repStart: 0,
      repCount: 0,
      varHeaderSize: 0,
      fast: false,
    },
  ]
  for (const record of records) {
    insert.run(record.td, record.op, JSON.stringify(record), '2026-01-01T00:00:00.000Z')
  }
  db.close()
  return file
}

describe('journal schema migrations', () => {
  it('opens a version-1 database, migrates it and replays its hypercall records', async () => {
    const file = firstVtldDatabase()
    const journal = new Journal(file)
    expect(journal.schemaVersion).toBe(5)
    const tds = new TdService(journal)
    expect(tds.list()).toEqual([
      expect.objectContaining({ id: 'td-old', name: 'old', state: 'running' }),
    ])
    expect(await tds.status('td-old')).toMatchObject({ partition: { guestVsmState: 'Enabled' } })
    // New records go next to the old ones; a checkpoint snapshots and compacts them.
    await tds.steps('td-old', [{ vp: 1, run: {} }])
    tds.checkpoint()
    expect(journal.entries()).toEqual([])
    expect(journal.snapshots().map((s) => s.meta.td)).toEqual(['td-old'])
    const before = await tds.snapshotDocument('td-old')
    journal.close()

    const reopened = new Journal(file)
    expect(await new TdService(reopened).snapshotDocument('td-old')).toEqual(before)
    reopened.close()
  })

  it('refuses a database newer than this vtld', () => {
    const file = firstVtldDatabase()
    const db = new Database(file)
    db.exec('UPDATE schema_version SET version = 99')
    db.close()
    expect(() => new Journal(file)).toThrow(/schema version 99 is newer/)
  })

  it('deleting a TD drops its records and snapshot at the next compaction', async () => {
    const journal = new Journal(':memory:')
    const tds = new TdService(journal, { snapshotEvery: 2, snapshotIdleMs: 0 })
    const kept = (await tds.create({ vps: 1, memory: 1n << 20n, gpaWidth: 48, mbec: true })).id
    const gone = (await tds.create({ vps: 1, memory: 1n << 20n, gpaWidth: 48, mbec: true })).id
    await tds.steps(gone, [{ vp: 0, run: {} }])
    await tds.steps(kept, [{ vp: 0, run: {} }])
    expect(
      journal
        .snapshots()
        .map((s) => s.meta.td)
        .sort()
    ).toEqual([kept, gone].sort())
    await tds.delete(gone)
    tds.checkpoint()
    expect(journal.snapshots().map((s) => s.meta.td)).toEqual([kept])
    expect(journal.entries().filter((e) => e.record.td === gone)).toEqual([])
  })
})
