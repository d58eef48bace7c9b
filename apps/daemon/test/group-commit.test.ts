import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { GroupCommit } from '../src/group-commit.js'
import { Journal } from '../src/journal.js'
import { TdService } from '../src/td-service.js'
import { GatedJournal } from './gated-journal.js'

// #17 group commit: one sync for every write made while the previous one ran; nothing answered
// before the sync that covers it finished.

/** A sync the test finishes by hand (each call is one fsync group). */
function manualSync() {
  const calls: { seq: number; finish: (error?: Error) => void }[] = []
  const sync = (seq: number) =>
    new Promise<void>((resolve, reject) => {
      calls.push({
        seq,
        finish: (error) => {
          if (error === undefined) resolve()
          else reject(error)
        },
      })
    })
  return { calls, sync }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('GroupCommit', () => {
  it('answers a write only after a sync that started after it', async () => {
    const { calls, sync } = manualSync()
    const group = new GroupCommit(sync, 10)
    await group.until(10) // already durable: no sync
    expect(calls).toHaveLength(0)
    group.wrote(11)
    let done = false
    const first = group.until(11).then(() => (done = true))
    await tick()
    expect(calls.map((c) => c.seq)).toEqual([11])
    expect(done).toBe(false)
    calls[0]?.finish()
    await first
    expect(group.durable).toBe(11)
  })

  it('gathers the writes made during a sync into one next sync', async () => {
    const { calls, sync } = manualSync()
    const group = new GroupCommit(sync)
    group.wrote(1)
    const order: number[] = []
    const waits = [group.until(1).then(() => order.push(1))]
    await tick()
    // Written while sync #1 runs: all three wait for sync #2.
    for (const seq of [2, 3, 4]) {
      group.wrote(seq)
      waits.push(group.until(seq).then(() => order.push(seq)))
    }
    calls[0]?.finish()
    await tick()
    expect(order).toEqual([1])
    expect(calls.map((c) => c.seq)).toEqual([1, 4])
    calls[1]?.finish()
    await Promise.all(waits)
    expect(order).toEqual([1, 2, 3, 4])
    expect(calls).toHaveLength(2)
  })

  it('a failed sync fails its waiters and every later one', async () => {
    const { calls, sync } = manualSync()
    const group = new GroupCommit(sync)
    group.wrote(1)
    const waiting = group.until(1)
    await tick()
    calls[0]?.finish(new Error('EIO'))
    await expect(waiting).rejects.toThrow(/journal sync failed \(EIO\)/)
    group.wrote(2)
    await expect(group.until(2)).rejects.toThrow(/EIO/)
    expect(group.failed?.message).toMatch(/may be lost/)
  })

  it('a failed sync is reported at once, although writes keep arriving (review HIGH 2)', async () => {
    const { calls, sync } = manualSync()
    const group = new GroupCommit(sync)
    group.wrote(1)
    const first = group.until(1)
    await tick()
    // Written while sync #1 runs: it must not start a sync of its own once #1 has failed.
    group.wrote(2)
    const second = group.until(2)
    calls[0]?.finish(new Error('EIO'))
    await expect(first).rejects.toThrow(/EIO/)
    await expect(second).rejects.toThrow(/EIO/)
    expect(group.failed?.message).toMatch(/EIO/)
    expect(calls).toHaveLength(1)
  })

  it("a group answered before the next group's sync fails stays answered (review LOW 4)", async () => {
    const { calls, sync } = manualSync()
    const group = new GroupCommit(sync)
    group.wrote(1)
    const first = group.until(1)
    await tick()
    calls[0]?.finish()
    await tick()
    group.wrote(2)
    const second = group.until(2)
    await tick()
    calls[1]?.finish(new Error('EIO'))
    const [one, two] = await Promise.allSettled([first, second])
    expect(one.status).toBe('fulfilled')
    expect(two.status).toBe('rejected')
    expect(group.durable).toBe(1)
  })
})

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('TdService with group commit', () => {
  it('answers a command, and shows its trace events, only once it is durable', async () => {
    const gated = new GatedJournal(':memory:')
    const service = new TdService(gated)
    gated.hold()
    const created = service.create({ vps: 1, memory: 1n << 20n, gpaWidth: 48, mbec: true })
    let answered = false
    void created.then(() => (answered = true))
    await tick()
    expect(answered).toBe(false)
    gated.release()
    const td = await created
    const seen: number[] = []
    service.subscribe((_td, events) => seen.push(events.length))
    gated.hold()
    const step = service.steps(td.id, [{ vp: 0, write: { gpa: '0x1000', size: 8, value: 1 } }])
    await tick()
    expect(seen).toEqual([])
    gated.release()
    await step
    expect(seen.length).toBe(1)
  })

  it('a file journal makes concurrent commands durable in fewer syncs than commands', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtld-group-'))
    dirs.push(dir)
    const journal = new Journal(join(dir, 'vtld.sqlite'))
    const tds = new TdService(journal)
    const { id } = await tds.create({ vps: 1, memory: 1n << 20n, gpaWidth: 48, mbec: true })
    const before = journal.syncs
    const writes = Array.from({ length: 32 }, (_, i) =>
      tds.steps(id, [{ vp: 0, write: { gpa: '0x1000', size: 8, value: i } }])
    )
    await Promise.all(writes)
    const syncs = journal.syncs - before
    expect(journal.durableSeq).toBe(33)
    const [read] = await tds.steps(id, [{ vp: 0, read: { gpa: '0x1000' } }])
    expect(Number(read?.result.value)).toBe(31)
    // The first command's sync started at once; the 31 written meanwhile shared the next one.
    expect(syncs).toBe(2)
    journal.close()
  })
})
