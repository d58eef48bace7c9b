import type { TdSnapshot } from '@vtl/sim'
import { describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { Journal } from '../src/journal.js'
import { nestsDeeper } from '../src/json-depth.js'
import { stringifySliced } from '../src/sliced-json.js'
import { TdService } from '../src/td-service.js'
import { TimeSlice } from '../src/time-slice.js'

// #15 finding 6: restoring and saving a big TD runs in slices, so /healthz and other TDs are
// answered meanwhile (order of completion, no timing), and a TD being restored is invisible
// until it is complete.

const BIG = { vps: 256, memory: 1n << 24n, gpaWidth: 48 as const, mbec: true }

async function bigSnapshot(): Promise<TdSnapshot> {
  const source = new TdService()
  const { id } = await source.create(BIG)
  await source.steps(id, [{ vp: 0, write: { gpa: '0x1000', size: 8, value: 7 } }])
  return JSON.parse(JSON.stringify(await source.snapshotDocument(id))) as TdSnapshot
}

const turn = (): Promise<void> =>
  new Promise((resolve) => {
    setImmediate(resolve)
  })

describe('sliced restore and snapshot', () => {
  it('/healthz answers while a 256-VP TD is restored; the TD appears only once complete', async () => {
    const document = await bigSnapshot()
    const journal = new Journal(':memory:')
    const tds = new TdService(journal)
    const app = createApp({ tds })
    const order: string[] = []
    const restoring = tds.restore('big', document).then((view) => {
      order.push('restored')
      return view
    })
    await turn()
    const seen = await Promise.resolve(app.request('/healthz')).then((r: Response) => {
      order.push(`healthz ${r.status}`)
      return { list: tds.list(), records: journal.records().length }
    })
    // Mid-restore: answered, and nothing of the TD is visible or journaled yet.
    expect(seen).toEqual({ list: [], records: 0 })
    const view = await restoring
    expect(order).toEqual(['healthz 200', 'restored'])
    expect(tds.list().map((t) => t.id)).toEqual([view.id])
    const [read] = await tds.steps(view.id, [{ vp: 0, read: { gpa: '0x1000' } }])
    expect(Number(read?.result.value)).toBe(7)
    // Its record (JSON made in slices) replays to the same TD.
    const replayed = new TdService(journal)
    expect(await replayed.snapshotDocument(view.id)).toEqual(await tds.snapshotDocument(view.id))
  })

  it('a snapshot refused late (its last VP) changes nothing: no TD, nothing journaled', async () => {
    const document = await bigSnapshot()
    ;(document.vps[255] as { exitVtl: number }).exitVtl = 5
    const journal = new Journal(':memory:')
    const tds = new TdService(journal)
    let turns = 0
    const count = (): void => {
      turns++
      if (turns < 1e6) setImmediate(count)
    }
    setImmediate(count)
    await expect(tds.restore('bad', document)).rejects.toMatchObject({
      code: 'E_BAD_SNAPSHOT',
      extra: { field: 'vps[255].exitVtl' },
    })
    // It failed midway: the event loop had turns while the VPs before it were checked.
    expect(turns).toBeGreaterThan(0)
    turns = 1e6
    expect(tds.list()).toEqual([])
    expect(journal.records()).toEqual([])
  })

  it('a name taken while the snapshot is built refuses the restore (409), journaling nothing of it', async () => {
    const document = await bigSnapshot()
    const journal = new Journal(':memory:')
    const tds = new TdService(journal)
    const restoring = tds.restore('name', document)
    await turn()
    await tds.create({ ...BIG, vps: 1, name: 'name' })
    await expect(restoring).rejects.toMatchObject({ code: 'E_TD_EXISTS' })
    expect(tds.list().map((t) => t.name)).toEqual(['name'])
    expect(journal.records().map((r) => r.op)).toEqual(['td.create'])
  })

  it('/healthz answers while the document is saved; a command sent meanwhile runs after it', async () => {
    const tds = new TdService()
    const app = createApp({ tds })
    const { id } = await tds.create(BIG)
    const order: string[] = []
    const saving = tds.snapshotDocument(id).then((document) => {
      order.push('saved')
      return document
    })
    await turn()
    const write = tds
      .steps(id, [{ vp: 0, write: { gpa: '0x1000', size: 8, value: 9 } }])
      .then(() => order.push('write'))
    await Promise.resolve(app.request('/healthz')).then((r: Response) =>
      order.push(`healthz ${r.status}`)
    )
    const document = await saving
    await write
    expect(order).toEqual(['healthz 200', 'saved', 'write'])
    // The document is the state before the write.
    expect(document.contents).toEqual({})
  })

  it("stringifySliced gives JSON.stringify's text, with turns between the parts", async () => {
    const document = await bigSnapshot()
    const odd = {
      a: undefined,
      b: [undefined, 1, { c: undefined, d: 'x' }],
      e: new Date(0),
      f: { g: { h: { i: [1, 2] } } },
      j: null,
    }
    for (const value of [document, odd, [], {}, 'text', 5]) {
      expect(await stringifySliced(value)).toBe(JSON.stringify(value))
    }
    let turns = 0
    const tick = (): void => {
      turns++
    }
    setImmediate(tick)
    setImmediate(tick)
    const text = await stringifySliced(document, 3, new TimeSlice(0))
    expect(turns).toBe(2)
    expect(text).toBe(JSON.stringify(document))
  })

  it('the depth check scans a megabyte body in slices, with the same verdicts', async () => {
    const flat = JSON.stringify({ pages: Array.from({ length: 2000 }, () => '[{'.repeat(300)) })
    expect(flat.length).toBeGreaterThan(1 << 20)
    let turns = 0
    const tick = (): void => {
      turns++
    }
    setImmediate(tick)
    expect(await nestsDeeper(flat, 3, new TimeSlice(0))).toBe(false)
    expect(turns).toBe(1)
    const deep = `${'['.repeat(65)}${']'.repeat(65)}`
    expect(await nestsDeeper(deep, 64)).toBe(true)
    expect(await nestsDeeper(deep, 65)).toBe(false)
    // Brackets inside a string (after an escaped quote) do not count.
    const quoted = JSON.stringify(['a\\"[[[[', [[1]]])
    expect(await nestsDeeper(quoted, 2)).toBe(true)
    expect(await nestsDeeper(quoted, 3)).toBe(false)
  })

  it('a due snapshot is taken in slices on the queue and replays to the same TD', async () => {
    const journal = new Journal(':memory:')
    const tds = new TdService(journal, { snapshotEvery: 1, snapshotIdleMs: 1 })
    const { id } = await tds.create(BIG)
    await tds.steps(id, [{ vp: 0, write: { gpa: '0x1000', size: 8, value: 5 } }])
    for (let i = 0; i < 500 && journal.snapshots().length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const [stored] = journal.snapshots()
    expect(stored?.seq).toBe(2)
    // The records it covers are dropped: replay starts from it.
    expect(journal.records()).toEqual([])
    const replayed = new TdService(journal)
    expect(await replayed.snapshotDocument(id)).toEqual(await tds.snapshotDocument(id))
    const [read] = await replayed.steps(id, [{ vp: 0, read: { gpa: '0x1000' } }])
    expect(Number(read?.result.value)).toBe(5)
  })
})
