import { describe, expect, it } from 'vitest'
import type { SimTd } from '@vtl/sim'
import type Database from 'better-sqlite3'
import { Journal } from '../src/journal.js'
import { TdService } from '../src/td-service.js'
import { expectAnswer, setup } from './routes-helpers.js'
import { GatedJournal } from './gated-journal.js'

/** An in-memory journal whose record writes fail while `broken` is set (a full disk, say). */
class BreakableJournal extends Journal {
  constructor() {
    super(':memory:')
  }

  set broken(broken: boolean) {
    // A trigger: the written-at-once and the queued (group commit) writes fail alike.
    const { db } = this as unknown as { db: Database.Database }
    db.exec(
      broken
        ? 'CREATE TEMP TRIGGER broken BEFORE INSERT ON journal BEGIN ' +
            "SELECT RAISE(ABORT, 'SQLITE_FULL: database or disk is full'); END"
        : 'DROP TRIGGER temp.broken'
    )
  }
}

const enable = { vp: 0, code: '0x000d', input: 'ffffffffffffffff 01 00 0000 00000000' }

describe('a journal write that fails after the command was applied', () => {
  it('marks the TD failed: 500 for that request, 409 E_TD_FAILED for later mutations, reads still work', async () => {
    const journal = new BreakableJournal()
    const ctx = setup({ tds: new TdService(journal) })
    const id = await ctx.createTd()
    const td = `/v1/tds/${id}`
    journal.broken = true
    const failed = await expectAnswer(ctx.post(`${td}/hypercall`, enable), 500, 'E_INTERNAL')
    expect(failed.detail).toMatch(/journal write failed.*SQLITE_FULL.*marked failed/)
    journal.broken = false

    expect(await ctx.get(td)).toMatchObject({ id, state: 'failed' })
    // The command was applied: the state shows it, ahead of the journal.
    expect(await ctx.get(`${td}/status`)).toMatchObject({ partition: { guestVsmState: 'Enabled' } })
    expect(await ctx.get(`${td}/vsm/partition-config?vp=0`)).toMatchObject({ vp: 0 })
    expect(await ctx.get(`${td}/trace`)).toMatchObject({ displayTimeUnit: 'ns' })
    expect(await ctx.get(`${td}/memory/runs`)).toMatchObject({ next: null })

    const mutations: [string, () => Response | Promise<Response>][] = [
      ['hypercall', () => ctx.post(`${td}/hypercall`, enable)],
      ['steps', () => ctx.post(`${td}/steps`, { steps: [{ vp: 0, run: {} }] })],
      ['enable-partition-vtl', () => ctx.post(`${td}/vsm/enable-partition-vtl`, { vp: 0 })],
      [
        'partition-config',
        () => ctx.send('PUT', `${td}/vsm/partition-config`, { vp: 0, value: '0x1' }),
      ],
      ['share', () => ctx.post(`${td}/memory/share`, { vp: 0, start: '0x10000', size: 4096 })],
      ['accept', () => ctx.post(`${td}/memory/accept`, { start: '0x10000', size: 4096 })],
    ]
    for (const [name, request] of mutations) {
      const response = await request()
      expect(response.status, name).toBe(409)
      expect(await response.json(), name).toMatchObject({ code: 'E_TD_FAILED' })
    }
    // Other TDs are unaffected, and the failed one can be deleted.
    const other = await ctx.createTd()
    await expectAnswer(ctx.post(`/v1/tds/${other}/hypercall`, enable), 200)
    await expectAnswer(ctx.send('DELETE', td), 204)
    await expectAnswer(ctx.app.request(td), 404, 'E_NO_TD')
  })

  it('in a group commit, only the TD whose records fail is marked failed', async () => {
    const journal = new GatedJournal(':memory:')
    const tds = new TdService(journal)
    const spec = { vps: 1, memory: 1n << 20n, gpaWidth: 48, mbec: true } as const
    const [a, b] = [await tds.create(spec), await tds.create(spec)]
    const { db } = journal as unknown as { db: Database.Database }
    db.exec(
      `CREATE TEMP TRIGGER broken BEFORE INSERT ON journal WHEN NEW.td = '${b.id}' BEGIN ` +
        "SELECT RAISE(ABORT, 'SQLITE_FULL: database or disk is full'); END"
    )
    const write = (id: string, value: number) =>
      tds.steps(id, [{ vp: 0, write: { gpa: '0x1000', size: 8, value } }])
    // Queued together, written in one group (its batch fails, then each is written alone).
    journal.hold()
    const writes = [write(a.id, 1), write(b.id, 2), write(a.id, 3)]
    await new Promise((resolve) => setImmediate(resolve))
    journal.release()
    const settled = await Promise.allSettled(writes)
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(String((settled[1] as PromiseRejectedResult).reason)).toMatch(
      /journal write failed.*SQLITE_FULL.*marked failed/
    )
    expect(tds.list().map((td) => td.state)).toEqual(['running', 'failed'])
    expect(
      journal
        .records()
        .filter((r) => r.op === 'step')
        .map((r) => r.td)
    ).toEqual([a.id, a.id])
    await expect(write(b.id, 4)).rejects.toThrow(/failed/)
  })

  it('a failed create or delete leaves nothing half-done', async () => {
    const journal = new BreakableJournal()
    const tds = new TdService(journal)
    const kept = await tds.create({ vps: 1, memory: 4096n, gpaWidth: 48, mbec: true })
    journal.broken = true
    await expect(
      tds.create({ name: 'x', vps: 1, memory: 4096n, gpaWidth: 48, mbec: true })
    ).rejects.toThrow(/journal write failed/)
    await expect(tds.delete(kept.id)).rejects.toThrow(/journal write failed/)
    expect(tds.list()).toEqual([kept])
  })
})

describe('a paravisor panic (a typed VtlError out of a guest step)', () => {
  it('answers 500 E_PARAVISOR_PANIC, journals the step and fails the TD', async () => {
    const journal = new Journal(':memory:')
    const ctx = setup({ tds: new TdService(journal) })
    const id = await ctx.createTd()
    const td = `/v1/tds/${id}`
    // The host refuses a private→shared change: OpenHCL panics (vsm-on-tdx.md §5.6), so does core.
    const entries = (ctx.tds as unknown as { tds: Map<string, { td: { sim: SimTd } }> }).tds
    entries
      .get(id)
      ?.td.sim.faults.arm({ at: 'ModifySparseGpaPageHostVisibility', status: 'AccessDenied' })
    const before = journal.records().length
    const panic = await expectAnswer(
      ctx.post(`${td}/memory/share`, { vp: 0, start: '0x10000', size: 4096 }),
      500,
      'E_PARAVISOR_PANIC'
    )
    expect(panic.detail).toMatch(/paravisor panicked/)
    expect(journal.records().slice(before)).toEqual([
      expect.objectContaining({ op: 'step', td: id }),
    ])
    expect(await ctx.get(td)).toMatchObject({ id, state: 'failed' })
    const later = await expectAnswer(
      ctx.post(`${td}/vsm/enable-partition-vtl`, { vp: 0 }),
      409,
      'E_TD_FAILED'
    )
    expect(later.detail).toMatch(/paravisor panicked/)
    expect(await ctx.get(`${td}/status`)).toMatchObject({ id })
  })
})
