import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { Journal, JournalWriteError, type StepRecord } from '../src/journal.js'
import { Watermark, WATERMARK_FILE, readWatermark } from '../src/journal-watermark.js'

// #17 group commit: a command's records are written when its group commit starts, in one
// transaction with every command queued meanwhile; a failed batch falls back to one transaction
// per command, so only the TD whose records fail loses them.

const step = (td: string, n: number): StepRecord => ({ op: 'step', td, step: `{"vp":${n}}` })

/** Makes every insert of `td`'s records fail (a constraint, a full disk: any SQLite error). */
function breakTd(journal: Journal, td: string): void {
  const { db } = journal as unknown as { db: Database.Database }
  db.exec(
    `CREATE TEMP TRIGGER broken BEFORE INSERT ON journal WHEN NEW.td = '${td}' BEGIN ` +
      "SELECT RAISE(ABORT, 'SQLITE_FULL: database or disk is full'); END"
  )
}

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('Journal.queue', () => {
  it('gives seqs at once, writes at the group commit, and every read sees queued records', () => {
    const journal = new Journal(':memory:')
    expect(journal.queue([step('td-a', 0)])).toBe(1)
    expect(journal.queue([step('td-a', 1), step('td-a', 2)])).toBe(3)
    // Read paths write the queued records first.
    expect(journal.entries().map((e) => e.seq)).toEqual([1, 2, 3])
    expect(journal.highSeq).toBe(3)
    expect(journal.commit([step('td-b', 0)])).toBe(4)
    expect(journal.recordRows().map((r) => [r.seq, r.td])).toEqual([
      [1, 'td-a'],
      [2, 'td-a'],
      [3, 'td-a'],
      [4, 'td-b'],
    ])
  })

  it('a snapshot covers the queued records before it (they are written first, then dropped)', () => {
    const journal = new Journal(':memory:')
    journal.commit([{ op: 'td.delete', td: 'td-x' }])
    const seq = journal.queue([step('td-a', 0)])
    journal.saveSnapshot({
      seq,
      meta: { td: 'td-a', name: undefined, vps: 1, memory: '0x1000', gpaWidth: 48, mbec: true },
      snapshot: { version: 1 } as never,
    })
    expect(journal.records()).toEqual([{ op: 'td.delete', td: 'td-x' }])
  })

  it('one group writes every queued command in one transaction, then syncs once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtld-queue-'))
    dirs.push(dir)
    const journal = new Journal(join(dir, 'vtld.sqlite'))
    for (let n = 0; n < 8; n++) journal.queue([step('td-a', n)])
    const { db } = journal as unknown as { db: Database.Database }
    const rows = () => (db.prepare('SELECT count(*) AS n FROM journal').get() as { n: number }).n
    expect(rows()).toBe(0)
    await journal.durable(8)
    expect(journal.syncs).toBe(1)
    expect(journal.durableSeq).toBe(8)
    expect(rows()).toBe(8)
    journal.close()
  })

  it("a failed batch fails only the TD whose records fail, and that TD's later records", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtld-queue-'))
    dirs.push(dir)
    const file = join(dir, 'vtld.sqlite')
    const journal = new Journal(file)
    journal.attachWatermark(new Watermark(join(dir, WATERMARK_FILE), journal.highSeq))
    breakTd(journal, 'td-b')
    const failed: string[] = []
    journal.onWriteFailure((td) => failed.push(td))
    const seqs = [
      journal.queue([step('td-a', 0)]),
      journal.queue([step('td-b', 0)]),
      journal.queue([step('td-a', 1), step('td-a', 2)]),
      journal.queue([step('td-b', 1)]),
      journal.queue([step('td-c', 0)]),
      journal.queue([step('td-b', 2)]),
    ]
    await journal.durable(seqs.at(-1) ?? 0)
    expect(failed).toEqual(['td-b'])
    const lost = seqs.map((seq) => journal.writeFailure(seq))
    expect(lost.map((e) => e instanceof JournalWriteError)).toEqual([
      false,
      true,
      false,
      true,
      false,
      true,
    ])
    expect(lost[1]?.message).toMatch(/SQLITE_FULL/)
    expect(lost[3]?.message).toMatch(/an earlier record of TD td-b could not be written/)
    // Taken once.
    expect(journal.writeFailure(seqs[1] ?? 0)).toBeUndefined()
    expect(journal.entries().map((e) => [e.seq, e.record.td])).toEqual([
      [1, 'td-a'],
      [3, 'td-a'],
      [4, 'td-a'],
      [6, 'td-c'],
    ])
    // The watermark never names a record the database lacks (the last queued one failed).
    journal.close()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(readWatermark(join(dir, WATERMARK_FILE))).toMatchObject({ seq: 6 })
  })
})
