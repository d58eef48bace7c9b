import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { JournalDamageError, openJournal } from '../src/journal-check.js'
import { TdService } from '../src/td-service.js'

// Issue 15, finding 4: journal damage was lost silently (a deleted or garbled -wal: 0 TDs) or
// refused as "Unterminated string in JSON" naming nothing. Every damage below is refused with the
// data dir (and the TD and record where one is at fault) and the ways out.

const dirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vtld-damage-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const enable = (vp: number) => ({
  vp,
  code: 0x000d,
  input: new Uint8Array(Buffer.from('ffffffffffffffff0100000000000000', 'hex')),
  repStart: 0,
  repCount: 0,
  varHeaderSize: 0,
  fast: false,
})

/**
 * A data dir as a kill -9 leaves it (copied while the journal is open: database, WAL and
 * watermark), and what was acknowledged in it.
 */
async function crashImage() {
  const live = tempDir()
  const { journal } = openJournal(live)
  const service = new TdService(journal, { snapshotEvery: 1000 })
  const ids: string[] = []
  for (let i = 0; i < 3; i++) {
    const { id } = await service.create({
      name: `td${i}`,
      vps: 2,
      memory: 1n << 20n,
      gpaWidth: 48,
      mbec: true,
    })
    await service.hypercall(id, enable(0))
    ids.push(id)
  }
  const acknowledged = await Promise.all(ids.map((id) => service.snapshotDocument(id)))
  const image = tempDir()
  cpSync(live, image, { recursive: true })
  journal.close()
  expect(existsSync(join(image, 'vtld.sqlite-wal'))).toBe(true)
  return { image, ids, acknowledged }
}

/** Opens the image: refused (the message), or the TDs it serves. */
async function outcome(image: string, recover = false) {
  let opened
  try {
    opened = openJournal(image, recover)
  } catch (error) {
    expect(error).toBeInstanceOf(JournalDamageError)
    return { refused: (error as Error).message }
  }
  const service = new TdService(opened.journal)
  const docs = await Promise.all(
    service.list().map(async (t) => [t.id, await service.snapshotDocument(t.id)] as const)
  )
  opened.journal.close()
  return { served: new Map(docs), recovered: opened.recovered }
}

const wal = (image: string): string => join(image, 'vtld.sqlite-wal')

describe('journal damage is detected', () => {
  it('an intact crash image serves every acknowledged write', async () => {
    const { image, ids, acknowledged } = await crashImage()
    const result = await outcome(image)
    expect(result.refused).toBeUndefined()
    ids.forEach((id, i) => {
      expect(result.served?.get(id)).toEqual(acknowledged[i])
    })
  })

  const damages: [string, (image: string) => void][] = [
    [
      'the -wal file deleted',
      (image) => {
        rmSync(wal(image))
      },
    ],
    [
      'a 0-byte database with its WAL',
      (image) => {
        truncateSync(join(image, 'vtld.sqlite'), 0)
      },
    ],
    [
      'garbage in the WAL header',
      (image) => {
        const bytes = readFileSync(wal(image))
        bytes.fill(0x5a, 0, 32)
        writeFileSync(wal(image), bytes)
      },
    ],
    [
      'bytes flipped mid-WAL',
      (image) => {
        const bytes = readFileSync(wal(image))
        const at = Math.floor(bytes.length / 2)
        for (let i = 0; i < 64; i++) bytes[at + i] = (bytes[at + i] ?? 0) ^ 0xff
        writeFileSync(wal(image), bytes)
      },
    ],
    [
      'the WAL cut in half',
      (image) => {
        truncateSync(wal(image), Math.floor(statSync(wal(image)).size / 2))
      },
    ],
    [
      'the watermark garbled',
      (image) => {
        writeFileSync(join(image, 'vtld.watermark'), 'x')
      },
    ],
  ]

  it.each(damages)('%s: refused, naming the data dir and both ways out', async (_name, damage) => {
    const { image } = await crashImage()
    damage(image)
    const result = await outcome(image)
    expect(result.refused).toContain(image)
    expect(result.refused).toMatch(/restore a copy of/)
    expect(result.served).toBeUndefined()
  })

  it('the deleted -wal is refused, and --recover-journal starts saying what is lost', async () => {
    const { image } = await crashImage()
    rmSync(wal(image))
    const refused = await outcome(image)
    expect(refused.refused).toMatch(/records up to \d+ were acknowledged: \d+ records are missing/)
    const recovered = await outcome(image, true)
    expect(recovered.recovered?.join('\n')).toMatch(/missing records stay lost/)
    // Recovered once, the data dir is consistent again.
    expect((await outcome(image)).refused).toBeUndefined()
  })

  it('one changed byte inside a record: refused naming TD and record; recovery drops it and the later ones', async () => {
    const { image, ids, acknowledged } = await crashImage()
    const db = new Database(join(image, 'vtld.sqlite'))
    const row = db
      .prepare("SELECT seq, body FROM journal WHERE td = ? AND op = 'step'")
      .get(ids[1]) as { seq: number; body: string }
    // Still valid JSON, still a step: only its checksum can tell.
    const changed = row.body.replace('ffffffffffffffff01', 'ffffffffffffffff00')
    expect(changed).not.toBe(row.body)
    db.prepare('UPDATE journal SET body = ? WHERE seq = ?').run(changed, row.seq)
    db.close()
    const result = await outcome(image)
    expect(result.refused).toContain(`record ${row.seq} of TD ${String(ids[1])}`)
    expect(result.refused).toContain(image)
    expect(result.refused).toMatch(/drops 1 records of TD/)
    const recovered = await outcome(image, true)
    expect(recovered.recovered?.join('\n')).toContain(`record ${row.seq} of TD ${String(ids[1])}`)
    expect(recovered.served?.get(ids[0] as string)).toEqual(acknowledged[0])
    expect(recovered.served?.get(ids[2] as string)).toEqual(acknowledged[2])
    // TD 1 is back at its last good record: created, the hypercall dropped.
    expect(recovered.served?.get(ids[1] as string)?.platform.trace.nextSeq).toBeLessThan(
      acknowledged[1]?.platform.trace.nextSeq ?? 0
    )
  })
})
