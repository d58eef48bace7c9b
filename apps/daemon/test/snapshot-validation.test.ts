import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { TdSnapshot } from '@vtl/sim'
import { Journal } from '../src/journal.js'
import { e2eFixtures } from './e2e-fixtures.js'
import { TdService } from '../src/td-service.js'
import { expectAnswer, json, setup } from './routes-helpers.js'

// Issue 15, finding 1: one restored snapshot kept the daemon from ever starting again.

const enable = { vp: 0, code: '0x000d', input: 'ffffffffffffffff 01 00 0000 00000000' }

const { tempDir } = e2eFixtures('vtld-snapshot-')
const tempDb = (): string => join(tempDir(), 'vtld.sqlite')

describe('restore validates the whole snapshot', () => {
  it('400 E_BAD_SNAPSHOT naming the field, nothing created', async () => {
    const ctx = setup()
    const id = await ctx.createTd({ vps: 2, memory: '16MiB' })
    await expectAnswer(ctx.post(`/v1/tds/${id}/hypercall`, enable), 200)
    const snapshot = (await ctx.get(`/v1/tds/${id}/snapshot`)) as TdSnapshot
    const text = JSON.stringify({ snapshot })
    const cases: [string, string, string][] = [
      ['"tdxFeatures0":"0x0"', '"tdxFeatures0":-1', 'platform.module.tdxFeatures0'],
      ['"configFlags":"0x0"', '"configFlags":-1', 'platform.module.configFlags'],
      ['"tdCtls":"0x0"', '"tdCtls":-1', 'platform.module.tdCtls'],
      ['"limit":16384', '"limit":100000000', 'platform.trace.limit'],
      ['"exitVtl":0', '"exitVtl":5', 'vps[0].exitVtl'],
      ['"tpr":0', '"tpr":1e999', 'vps[0].vtls[0].apic.tpr'],
      ['"droppedCalls":0', '"droppedCalls":1e999', 'platform.hypervisor.droppedCalls'],
    ]
    for (const [from, to, field] of cases) {
      expect(text.includes(from), from).toBe(true)
      const response = await ctx.app.request('/v1/tds/restore', {
        method: 'POST',
        headers: json,
        body: text.replace(from, to),
      })
      const body = await expectAnswer(response, 400, 'E_BAD_SNAPSHOT')
      expect(body.field, to).toBe(field)
    }
    expect(((await ctx.get('/v1/tds')) as { tds: unknown[] }).tds).toHaveLength(1)
  })
})

describe('replay never lets one bad TD stop the others', () => {
  it('a journaled bad snapshot comes up failed with the reason; the others serve', async () => {
    const file = tempDb()
    let journal = new Journal(file)
    let tds = new TdService(journal, { snapshotEvery: 2 })
    const good = await tds.create({
      name: 'good',
      vps: 2,
      memory: 16n << 20n,
      gpaWidth: 48,
      mbec: true,
    })
    const snapshot = await tds.snapshotDocument(good.id)
    // What an older vtld journaled without checking (the "0x-1"), and a stored snapshot
    // gone bad: neither may take the daemon down.
    const bad = structuredClone(snapshot)
    ;(bad.platform.module as { tdxFeatures0: string }).tdxFeatures0 = '0x-1'
    journal.commit([{ op: 'td.restore', td: 'td-bad00001', name: 'bad', snapshot: bad }])
    await tds.hypercall(good.id, { ...hypercall() })
    journal.close()

    journal = new Journal(file)
    tds = new TdService(journal)
    const listed = tds.list()
    expect(listed.map((t) => [t.name, t.state]).sort()).toEqual([
      ['bad', 'failed'],
      ['good', 'running'],
    ])
    await expect(tds.status('td-bad00001')).rejects.toMatchObject({
      code: 'E_TD_FAILED',
      message: expect.stringMatching(/platform\.module\.tdxFeatures0/) as unknown,
    })
    expect(await tds.hypercall(good.id, hypercall())).toMatchObject({ status: 'InvalidVtlState' })
    // Shutdown checkpoints the good TD and leaves the bad one's rows; the next start agrees.
    tds.checkpoint()
    journal.close()
    journal = new Journal(file)
    tds = new TdService(journal)
    expect(
      tds
        .list()
        .map((t) => t.state)
        .sort()
    ).toEqual(['failed', 'running'])
    await tds.delete('td-bad00001')
    expect(tds.list()).toHaveLength(1)
    journal.close()
  })
})

function hypercall() {
  return {
    vp: 0,
    code: 0x000d,
    input: new Uint8Array(Buffer.from('ffffffffffffffff0100000000000000', 'hex')),
    repStart: 0,
    repCount: 0,
    varHeaderSize: 0,
    fast: false,
  }
}
