import { join } from 'node:path'
import { recordSum, snapshotSum } from './journal-checksum.js'
import { Watermark, WATERMARK_FILE, readWatermark } from './journal-watermark.js'
import { Journal } from './journal.js'

// Opening a data dir's journal: every row is checked against its checksum and the database
// against the watermark before anything is replayed. Damage refuses the start with what is
// damaged and the two ways out; `--recover-journal` takes the second and says what it dropped.

export const JOURNAL_FILE = 'vtld.sqlite'

/** One thing found wrong, and what starting from the last good record drops for it. */
interface Damage {
  what: string
  /** Records (and the snapshot) of a TD that recovery drops; none: nothing can be dropped. */
  drop?: { td: string; from: number; snapshot: boolean; records: number }
  /** The database is behind the watermark: recovery accepts it as it is. */
  behind?: number
}

/** The journal is damaged (vtld refuses to start; exit 1). */
export class JournalDamageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'JournalDamageError'
  }
}

const parses = (text: string): boolean => {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

function findDamage(journal: Journal, watermark: string): Damage[] {
  const damage: Damage[] = []
  const mark = readWatermark(watermark)
  const high = journal.highSeq
  if (mark === 'damaged') damage.push({ what: `the watermark ${watermark} is unreadable` })
  else if (mark !== 'absent' && high < mark.seq) {
    damage.push({
      what:
        `the database ends at record ${high} but records up to ${mark.seq} were acknowledged: ` +
        `${mark.seq - high} records are missing (a deleted, cut or damaged vtld.sqlite-wal?)`,
      behind: mark.seq - high,
    })
  }
  const rows = journal.recordRows()
  const count = (td: string, from: number): number =>
    rows.filter((r) => r.td === td && r.seq >= from).length
  const dropped = new Set<string>()
  for (const row of journal.snapshotRows()) {
    if (row.sum === snapshotSum(row.td, row.seq, row.meta, row.body) && parses(row.body)) continue
    dropped.add(row.td)
    damage.push({
      what: `the snapshot of TD ${row.td} (covering its records up to ${row.seq}) is damaged`,
      drop: { td: row.td, from: 0, snapshot: true, records: count(row.td, 0) },
    })
  }
  for (const row of rows) {
    if (dropped.has(row.td)) continue
    if (row.sum === recordSum(row.seq, row.td, row.op, row.body) && parses(row.body)) continue
    dropped.add(row.td)
    damage.push({
      what: `record ${row.seq} of TD ${row.td} (${row.op}) does not match its checksum`,
      drop: { td: row.td, from: row.seq, snapshot: false, records: count(row.td, row.seq) },
    })
  }
  return damage
}

function describeDrop(d: Damage): string {
  if (d.behind !== undefined)
    return `accepts the database as it is (the ${d.behind} missing records stay lost)`
  if (d.drop === undefined) return 'rewrites the watermark'
  const { td, from, snapshot, records } = d.drop
  return snapshot
    ? `drops TD ${td} (its snapshot and ${records} records)`
    : `drops ${records} records of TD ${td} (record ${from} and its later ones)`
}

/**
 * Opens `<dataDir>/vtld.sqlite`, checks it (record checksums, the watermark) and attaches the
 * watermark. Damage throws `JournalDamageError` naming the data dir, TD and record and the ways
 * out, unless `recover`: then the damaged records and the TD's later ones are dropped and
 * `recovered` says what went.
 */
export function openJournal(
  dataDir: string,
  recover = false
): { journal: Journal; recovered: string[] } {
  const file = join(dataDir, JOURNAL_FILE)
  const watermark = join(dataDir, WATERMARK_FILE)
  let journal: Journal | undefined
  let damage: Damage[]
  try {
    journal = new Journal(file)
    damage = findDamage(journal, watermark)
  } catch (error) {
    journal?.close()
    throw new JournalDamageError(
      `the journal ${file} cannot be read (${error instanceof Error ? error.message : String(error)}); ` +
        `restore a copy of ${dataDir} taken while vtld was stopped`
    )
  }
  if (damage.length > 0 && !recover) {
    journal.close()
    throw new JournalDamageError(
      [
        `the journal in ${dataDir} is damaged; nothing was changed:`,
        ...damage.map((d) => `  - ${d.what}`),
        `Either restore a copy of ${dataDir} (vtld.sqlite with its -wal file) taken while vtld ` +
          'was stopped, or start vtld with --recover-journal to start from the last good record ' +
          'of each TD, which:',
        ...damage.map((d) => `  - ${describeDrop(d)}`),
      ].join('\n')
    )
  }
  const recovered: string[] = []
  for (const d of damage) {
    if (d.drop !== undefined) journal.dropFrom(d.drop.td, d.drop.from, d.drop.snapshot)
    recovered.push(`${d.what}; --recover-journal ${describeDrop(d)}`)
  }
  journal.attachWatermark(new Watermark(watermark, journal.highSeq))
  return { journal, recovered }
}
