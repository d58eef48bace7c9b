import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import type Database from 'better-sqlite3'
import { Journal } from '../src/journal.js'
import { Watermark, readWatermark } from '../src/journal-watermark.js'

// The watermark names only records that are stored: a group whose last queued command failed to
// write marks the record before it, whatever is flushed while the group's WAL sync runs. A
// watermark past the database makes vtld refuse to start ("records are missing").

const step = (td: string) => [{ op: 'step' as const, td, step: '{}' }]
const db = (journal: Journal) => (journal as unknown as { db: Database.Database }).db

const dirs: string[] = []
const journals: Journal[] = []
afterEach(() => {
  for (const journal of journals.splice(0)) journal.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A file journal with a watermark whose writes of TD `broken` fail (a full disk, say). */
function open() {
  const dir = mkdtempSync(join(tmpdir(), 'vtld-wm-'))
  dirs.push(dir)
  const journal = new Journal(join(dir, 'journal.sqlite'))
  journals.push(journal)
  const path = join(dir, 'vtld.watermark')
  journal.attachWatermark(new Watermark(path, journal.highSeq))
  db(journal).exec(
    "CREATE TEMP TRIGGER broken BEFORE INSERT ON journal WHEN NEW.td = 'td-broken' " +
      "BEGIN SELECT RAISE(ABORT, 'SQLITE_FULL'); END"
  )
  return { journal, path }
}

it('a group whose last record failed marks the record before it, with a next group queued (review HIGH 1)', async () => {
  const { journal, path } = open()
  const a = journal.queue(step('td-a'))
  const b = journal.queue(step('td-broken'))
  const first = journal.durable(b)
  await new Promise((resolve) => setImmediate(resolve))
  const c = journal.queue(step('td-c'))
  const second = journal.durable(c)
  await first
  expect(readWatermark(path)).toEqual({ seq: a })
  expect(journal.writeFailure(b)).toBeDefined()
  await second
  expect(readWatermark(path)).toEqual({ seq: c })
})

it.each([
  ['recordRows', (journal: Journal) => journal.recordRows()],
  ['snapshotRows', (journal: Journal) => journal.snapshotRows()],
  [
    'compact',
    (journal: Journal) => {
      journal.compact()
    },
  ],
])(
  'a flush by %s during the WAL sync does not raise the watermark past the last stored record',
  async (_, flush) => {
    const { journal, path } = open()
    const a = journal.queue(step('td-a'))
    const b = journal.queue(step('td-broken'))
    // The group's data step ran synchronously: [a, b] flushed (b lost), its fdatasync pending.
    const first = journal.durable(b)
    const c = journal.queue(step('td-c'))
    flush(journal) // stores c while the group's fdatasync still runs
    await first
    expect(readWatermark(path)).toEqual({ seq: a })
    await journal.durable(c)
    expect(readWatermark(path)).toEqual({ seq: c })
  }
)
