import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Journal } from '../src/journal.js'
import type { TdEntry } from '../src/td-entry.js'
import { TdService } from '../src/td-service.js'

// Issue 15, finding 3: an unexpected error inside a step left the TD half-changed (trace and
// clock advanced, nothing journaled, still `running`, and a restart gave another state).

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const steps = [
  {
    vp: 0,
    hypercall: { name: 'EnablePartitionVtl', input: { partitionId: 'self', targetVtl: 1 } },
  },
  { vp: 0, hypercall: { name: 'EnableVpVtl', input: { vpIndex: 'self', targetVtl: 1 } } },
]

/** Makes the TD's engine throw a plain Error once `calls` VP lookups have passed. */
function breakAfter(service: TdService, id: string, calls: number): void {
  const entry = (service as unknown as { tds: Map<string, TdEntry> }).tds.get(id)
  if (entry === undefined) throw new Error('no entry')
  const engine = entry.td.engine
  const vp = engine.vp.bind(engine)
  let left = calls
  engine.vp = (index: number) => {
    if (left-- <= 0) throw new Error('boom inside the engine')
    return vp(index)
  }
}

describe('a command either commits or changes nothing', () => {
  it('an error mid-command: 500, the TD is as before, later commands and a restart agree', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtld-atomic-'))
    dirs.push(dir)
    const file = join(dir, 'vtld.sqlite')
    let journal = new Journal(file)
    let service = new TdService(journal)
    const { id } = await service.create({ vps: 2, memory: 16n << 20n, gpaWidth: 48, mbec: true })
    const before = await service.snapshotDocument(id)

    // The first step runs, the second throws part-way: nothing of the command may stay.
    let thrown = 0
    for (let calls = 1; calls < 400 && thrown < 3; calls += 7) {
      breakAfter(service, id, calls)
      try {
        await service.steps(id, steps)
        break
      } catch (error) {
        expect(error).toMatchObject({ code: 'E_INTERNAL' })
        expect((error as Error).message).toMatch(/nothing of it was applied/)
        thrown++
        expect(await service.snapshotDocument(id)).toEqual(before)
        expect(service.show(id).state).toBe('running')
      }
    }
    expect(thrown).toBeGreaterThan(0)
    const fresh = new TdService(new Journal(':memory:'))
    const twin = await fresh.create({ vps: 2, memory: 16n << 20n, gpaWidth: 48, mbec: true })
    const done = await service.steps(id, steps)
    expect(done).toEqual(await fresh.steps(twin.id, steps))
    const after = await service.snapshotDocument(id)
    journal.close()
    journal = new Journal(file)
    service = new TdService(journal)
    expect(await service.snapshotDocument(id)).toEqual(after)
    journal.close()
  })
})
