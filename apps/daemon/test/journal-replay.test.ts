import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Journal } from '../src/journal.js'
import { e2eFixtures } from './e2e-fixtures.js'
import { TdService } from '../src/td-service.js'

const ENABLE_PARTITION_VTL = {
  vp: 0,
  code: 0x000d,
  input: new Uint8Array(Buffer.from('ffffffffffffffff0100000000000000', 'hex')),
  repStart: 0,
  repCount: 0,
  varHeaderSize: 0,
  fast: false,
}

const { tempDir } = e2eFixtures('vtld-journal-')
const tempDb = (): string => join(tempDir(), 'vtld.sqlite')

describe('journal replay', () => {
  it('rebuilds the same TDs and guest state from the journal', async () => {
    const file = tempDb()
    const journal = new Journal(file)
    const tds = new TdService(journal)
    const kept = await tds.create({
      name: 'kept',
      vps: 2,
      memory: 16n << 20n,
      gpaWidth: 48,
      mbec: true,
    })
    const dropped = await tds.create({ vps: 1, memory: 4096n, gpaWidth: 52, mbec: false })
    expect(await tds.hypercall(kept.id, ENABLE_PARTITION_VTL)).toMatchObject({ status: 'Success' })
    await tds.delete(dropped.id)
    const status = await tds.status(kept.id)
    const list = tds.list()
    journal.close()

    const reopened = new Journal(file)
    const again = new TdService(reopened)
    expect(again.list()).toEqual(list)
    expect(await again.status(kept.id)).toEqual(status)
    // The replayed partition already has VTL1 enabled: the guest sees InvalidVtlState.
    expect(await again.hypercall(kept.id, ENABLE_PARTITION_VTL)).toMatchObject({
      status: 'InvalidVtlState',
      code: 0x51,
    })
    expect(reopened.schemaVersion).toBe(5)
    reopened.close()
  })

  it('journals nothing for a request that fails validation in the service', async () => {
    const file = tempDb()
    const journal = new Journal(file)
    const tds = new TdService(journal)
    const td = await tds.create({ vps: 1, memory: 4096n, gpaWidth: 48, mbec: true })
    await expect(tds.hypercall(td.id, { ...ENABLE_PARTITION_VTL, vp: 3 })).rejects.toMatchObject({
      code: 'E_BAD_VP',
    })
    expect(journal.records().map((record) => record.op)).toEqual(['td.create'])
    journal.close()
  })

  it('lists the TDs in creation order after a restart, snapshotted or not', async () => {
    const file = tempDb()
    const journal = new Journal(file)
    // A snapshot after every second record: some TDs come back from snapshots, some from records.
    const tds = new TdService(journal, { snapshotEvery: 2, snapshotIdleMs: 0 })
    const spec = { vps: 1, memory: 1n << 20n, gpaWidth: 48 as const, mbec: true }
    const names = ['zulu', 'alpha', 'mike', 'bravo', 'yankee', 'charlie']
    for (const name of names) await tds.create({ ...spec, name })
    // Two of them take a second record: a snapshot of each replaces its create record.
    for (const name of ['mike', 'charlie']) {
      const id = tds.list().find((td) => td.name === name)?.id ?? ''
      expect(await tds.hypercall(id, ENABLE_PARTITION_VTL)).toMatchObject({ status: 'Success' })
    }
    expect(tds.list().map((td) => td.name)).toEqual(names)
    const snapshotted = journal.snapshots().map((s) => s.meta.name)
    expect(snapshotted.sort()).toEqual(['charlie', 'mike'])
    journal.close()

    for (let restart = 0; restart < 2; restart++) {
      const reopened = new Journal(file)
      expect(new TdService(reopened).list().map((td) => td.name)).toEqual(names)
      reopened.close()
    }
  })
})
