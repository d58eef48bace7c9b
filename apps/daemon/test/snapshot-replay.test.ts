import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import type { StepSource } from '../src/guest-steps.js'
import { Journal } from '../src/journal.js'
import { ProblemError } from '../src/problem.js'
import { TdService } from '../src/td-service.js'

// Snapshots + compaction must not change what a restart rebuilds: after any command sequence, the
// in-memory TDs, a full replay (no snapshots) and a snapshot + tail replay (a snapshot every 3
// records, checkpoints, compaction) give the same saveTd documents.

const VPS = 3
const hex = (n: number) => `0x${n.toString(16)}`

const vp = fc.integer({ min: 0, max: VPS - 1 })
const page = fc.integer({ min: 0x10, max: 0x3ff })

const step: fc.Arbitrary<StepSource> = fc.oneof(
  vp.map((v) => ({ vp: v, hypercall: { name: 'EnablePartitionVtl', input: { targetVtl: 1 } } })),
  fc.tuple(vp, vp).map(([v, target]) => ({
    vp: v,
    hypercall: { name: 'EnableVpVtl', input: { vpIndex: target, vpContext: { rip: '0x1000' } } },
  })),
  fc.tuple(vp, vp, fc.integer({ min: 0, max: 1 })).map(([v, target, vtl]) => ({
    vp: v,
    hypercall: {
      name: 'StartVirtualProcessor',
      input: { vpIndex: target, targetVtl: vtl, vpContext: { rip: '0x2000' } },
    },
  })),
  fc.tuple(vp, fc.constantFrom(0x0d, 0x0f, 0x11, 0x99)).map(([v, code]) => ({
    vp: v,
    hypercall: { code, input: 'ffffffffffffffff 01 00 0000 00000000' },
  })),
  vp.map((v) => ({ vp: v, vtlCall: {} })),
  vp.map((v) => ({ vp: v, vtlReturn: {} })),
  vp.map((v) => ({ vp: v, run: {} })),
  fc.tuple(vp, fc.integer({ min: 0, max: 1 })).map(([v, vtl]) => ({ vp: v, vtl, run: {} })),
  fc.tuple(vp, page, fc.integer({ min: 0, max: 0xffff })).map(([v, p, value]) => ({
    vp: v,
    write: { gpa: hex(p * 4096), size: 4, value },
  })),
  fc.tuple(vp, page).map(([v, p]) => ({ vp: v, read: { gpa: hex(p * 4096) } })),
  vp.map((v) => ({ vp: v, setRegister: { name: 'VsmPartitionConfig', value: '0x1f' } })),
  vp.map((v) => ({ vp: v, setRegister: { name: 'Sint0', value: '0x30' } })),
  fc
    .tuple(vp, fc.integer({ min: 0x30, max: 0x40 }), fc.integer({ min: 0, max: 1 }))
    .map(([v, vector, vtl]) => ({ vp: v, interrupt: { vector, vtl } })),
  vp.map((v) => ({ vp: v, eoi: {} }))
)

type Command =
  | { kind: 'steps'; steps: StepSource[] }
  | { kind: 'protect'; vp: number; page: number; pages: number; flags: number }
  | { kind: 'visibility'; vp: number; page: number; pages: number; shared: boolean }
  | { kind: 'accept'; page: number }
  | { kind: 'checkpoint' }
  | { kind: 'second' }
  | { kind: 'restore' }

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .array(step, { minLength: 1, maxLength: 3 })
      .map((steps) => ({ kind: 'steps' as const, steps })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        vp,
        page,
        pages: fc.integer({ min: 1, max: 3 }),
        flags: fc.integer({ min: 0, max: 15 }),
      })
      .map((c) => ({ kind: 'protect' as const, ...c })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ vp, page, pages: fc.integer({ min: 1, max: 3 }), shared: fc.boolean() })
      .map((c) => ({ kind: 'visibility' as const, ...c })),
  },
  { weight: 1, arbitrary: page.map((p) => ({ kind: 'accept' as const, page: p })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'checkpoint' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'second' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restore' as const }) }
)

/** Runs a command; a refused one (ProblemError) answers its code, as the HTTP layer would. */
async function perform(tds: TdService, main: string, index: number, c: Command): Promise<unknown> {
  try {
    switch (c.kind) {
      case 'steps':
        return await tds.steps(main, c.steps)
      case 'protect':
        return await tds.protect(main, {
          vp: c.vp,
          targetVtl: 1,
          start: BigInt(c.page) << 12n,
          size: BigInt(c.pages) << 12n,
          flags: c.flags,
        })
      case 'visibility':
        return await tds.hostVisibility(main, {
          vp: c.vp,
          start: BigInt(c.page) << 12n,
          size: BigInt(c.pages) << 12n,
          shared: c.shared,
        })
      case 'accept':
        return await tds.accept(main, { start: BigInt(c.page) << 12n, size: 4096n })
      case 'checkpoint':
        tds.checkpoint()
        return 'checkpoint'
      case 'second': {
        const second = tds.list().find((td) => td.name === 'second')
        if (second === undefined) {
          return (
            await tds.create({
              name: 'second',
              vps: 1,
              memory: 1n << 20n,
              gpaWidth: 48,
              mbec: true,
            })
          ).name
        }
        await tds.delete(second.id)
        return 'deleted'
      }
      case 'restore':
        return (await tds.restore(`restored-${index}`, await tds.snapshotDocument(main))).name
    }
  } catch (error) {
    if (error instanceof ProblemError) return error.code
    throw error
  }
}

/** Every TD's snapshot document, by name. */
async function documents(tds: TdService): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  for (const td of tds.list()) out[td.name ?? td.id] = await tds.snapshotDocument(td.id)
  return out
}

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('snapshots and compaction', () => {
  it('in-memory state = full replay = snapshot + tail replay, for random command sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 30 }), async (commands) => {
        const dir = mkdtempSync(join(tmpdir(), 'vtld-snap-'))
        dirs.push(dir)
        const files = [join(dir, 'snap.sqlite'), join(dir, 'full.sqlite')]
        const every = [3, Number.MAX_SAFE_INTEGER]
        const first = files.map((file) => new Journal(file))
        const services = first.map(
          (journal, i) => new TdService(journal, { snapshotEvery: every[i] ?? 1 })
        )
        const answers: unknown[][] = [[], []]
        for (const [s, tds] of services.entries()) {
          const { id: main } = await tds.create({
            name: 'main',
            vps: VPS,
            memory: 4n << 20n,
            gpaWidth: 48,
            mbec: true,
            startedVps: [0],
          })
          for (const [i, c] of commands.entries()) answers[s]?.push(await perform(tds, main, i, c))
        }
        expect(answers[0]).toEqual(answers[1])
        const live = await Promise.all(services.map(documents))
        expect(live[0]).toEqual(live[1])

        // Restart both from their journals.
        for (const journal of first) journal.close()
        const journals = files.map((file) => new Journal(file))
        const reopened = journals.map(
          (journal, i) => new TdService(journal, { snapshotEvery: every[i] ?? 1 })
        )
        const replayed = await Promise.all(reopened.map(documents))
        expect(replayed[0]).toEqual(live[0])
        expect(replayed[1]).toEqual(live[1])
        // The snapshotting journal holds fewer records than the full one (or as many: none due yet).
        expect(journals[0]?.entries().length).toBeLessThanOrEqual(
          journals[1]?.entries().length ?? 0
        )
        for (const journal of journals) journal.close()
      }),
      { numRuns: 25 }
    )
  })
})
