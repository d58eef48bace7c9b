import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type Database from 'better-sqlite3'
import { Journal } from '../src/journal.js'
import { TdService } from '../src/td-service.js'
import { GatedJournal } from './gated-journal.js'

// A TD whose journal write failed stays failed for the process's life: nothing of it after the
// failed record is written or acknowledged (no gap a restart would replay over), and no snapshot
// stores the failed command's effects. The failing write is a TEMP TRIGGER (a full disk, say).

const spec = { vps: 1, memory: 1n << 20n, gpaWidth: 48, mbec: true } as const
const writes = (n: number, base = 0) =>
  Array.from({ length: n }, (_, i) => ({
    vp: 0,
    write: { gpa: '0x1000', size: 8, value: base + i },
  }))
const db = (journal: Journal) => (journal as unknown as { db: Database.Database }).db
const turn = () => new Promise((resolve) => setImmediate(resolve))

describe('a TD whose journal write failed', () => {
  it('acknowledges and journals none of its later commands, even one already running', async () => {
    const journal = new GatedJournal(':memory:')
    const tds = new TdService(journal)
    const a = await tds.create(spec)
    const b = await tds.create(spec)
    const firstSeq = journal.highSeq + 1
    db(journal).exec(
      `CREATE TEMP TRIGGER broken BEFORE INSERT ON journal WHEN NEW.seq = ${firstSeq} ` +
        "BEGIN SELECT RAISE(ABORT, 'SQLITE_FULL'); END"
    )
    journal.hold()
    const cmd1 = tds.steps(b.id, writes(1, 100))
    // Time-sliced: it is still running when another TD's create flushes cmd1's record.
    const cmd2 = tds.steps(b.id, writes(1024))
    const entry = (tds as unknown as { tds: Map<string, { version: number }> }).tds.get(b.id)
    while ((entry?.version ?? 0) < 2) await turn()
    await turn()
    const other = tds.create(spec)
    journal.release()
    const [first, second, created] = await Promise.allSettled([cmd1, cmd2, other])
    expect(first.status).toBe('rejected')
    expect(String((first as PromiseRejectedResult).reason)).toMatch(/SQLITE_FULL.*marked failed/)
    expect(second.status).toBe('rejected')
    expect(String((second as PromiseRejectedResult).reason)).toMatch(/SQLITE_FULL.*marked failed/)
    expect(created.status).toBe('fulfilled')
    // b's journal ends at its create: nothing after the failed record was stored.
    const rows = journal.recordRows()
    expect(rows.filter((row) => row.td === b.id).map((row) => row.op)).toEqual(['td.create'])
    expect(rows.filter((row) => row.td === a.id).map((row) => row.op)).toEqual(['td.create'])
    expect(tds.show(b.id).state).toBe('failed')
    // A later command is refused up front; other TDs still write.
    await expect(tds.steps(b.id, writes(1))).rejects.toMatchObject({ code: 'E_TD_FAILED' })
    await expect(tds.steps(a.id, writes(1))).resolves.toHaveLength(1)
  })

  it('refuses a record queued for it later, with the first failure (Journal.queue)', () => {
    const journal = new Journal(':memory:')
    const failedTds: string[] = []
    journal.onWriteFailure((td) => failedTds.push(td))
    db(journal).exec(
      "CREATE TEMP TRIGGER broken BEFORE INSERT ON journal WHEN NEW.td = 'td-b' " +
        "BEGIN SELECT RAISE(ABORT, 'SQLITE_FULL'); END"
    )
    const step = (td: string) => [{ op: 'step' as const, td, step: '{}' }]
    const lostSeq = journal.queue(step('td-b'))
    const okSeq = journal.queue(step('td-a'))
    expect(journal.highSeq).toBe(okSeq)
    expect(failedTds).toEqual(['td-b'])
    expect(journal.writeFailure(lostSeq)?.message).toBe('SQLITE_FULL')
    db(journal).exec('DROP TRIGGER temp.broken')
    // The disk has room again: td-b still writes nothing (its journal would have a gap).
    expect(() => journal.queue(step('td-b'))).toThrow(/an earlier record of TD td-b .*SQLITE_FULL/)
    expect(() => {
      journal.saveSnapshot({ seq: okSeq, meta: { td: 'td-b' } as never, snapshot: {} as never })
    }).toThrow(/TD td-b is not snapshotted/)
    expect(journal.recordRows().map((row) => row.td)).toEqual(['td-a'])
    // Its deletion is written, and a TD of that id could write again.
    journal.commit([{ op: 'td.delete', td: 'td-b' }])
    expect(journal.queue(step('td-b'))).toBeGreaterThan(okSeq)
    expect(journal.recordRows().map((row) => row.td)).toEqual(['td-a', 'td-b', 'td-b'])
  })

  it('is not snapshotted with the failed command, and a restart rebuilds it from what was written', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'vtld-failed-td-')), 'journal.db')
    const journal = new Journal(file)
    const tds = new TdService(journal, { snapshotEvery: 1, snapshotIdleMs: 0 })
    const b = await tds.create(spec)
    const before = journal.snapshotRows()
    db(journal).exec(
      "CREATE TEMP TRIGGER broken BEFORE INSERT ON journal WHEN NEW.op = 'step' " +
        "BEGIN SELECT RAISE(ABORT, 'SQLITE_FULL'); END"
    )
    const step = [{ vp: 0, write: { gpa: '0x1000', size: 8, value: 0x42 } }]
    await expect(tds.steps(b.id, step)).rejects.toThrow(/SQLITE_FULL.*marked failed/)
    // The snapshot taken after the failed step was refused: the one of its creation stays.
    expect(journal.snapshotRows()).toEqual(before)
    expect(tds.show(b.id).state).toBe('failed')
    await tds.settled()
    journal.close()
    const reopened = new Journal(file)
    const again = new TdService(reopened)
    expect(again.show(b.id).state).toBe('running')
    const [read] = await again.steps(b.id, [{ vp: 0, read: { gpa: '0x1000' } }])
    expect(read?.result.value).toBe('0x0')
    reopened.close()
  })
})
