import { fileURLToPath } from 'node:url'
import { HV_MAP_GPA_PERMISSIONS_ALL, HvMapGpaFlags, VtlError } from '@vtl/core'
import { describe, expect, it } from 'vitest'
import { loadScenarioFile } from '../scenario/parse.js'
import { createScenarioTd, runSteps } from '../scenario/run.js'
import { restoreTd, saveTd, type TdSnapshot } from './td-snapshot.js'
import { validateSnapshot } from './validate-snapshot.js'

const scenarios = fileURLToPath(new URL('../../scenarios/', import.meta.url))

/** Every leaf of a JSON document as a path of keys. */
function leaves(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, [...path, i]))
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]))
  }
  return [path]
}

function withLeaf(document: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(document)) as Record<string | number, unknown>
  let node = copy
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>
  node[path[path.length - 1] as string | number] = value
  return copy
}

async function sample(): Promise<TdSnapshot> {
  const scenario = await loadScenarioFile(scenarios + 'canonical-boot.yaml')
  // Two VPs with VTL1 enabled on both, a short trace ring: every kind of field, few of each.
  const small = { ...scenario, partition: { ...scenario.partition, vps: 2 } }
  const td = createScenarioTd(small, { td: { traceLimit: 6 } })
  runSteps(td, { ...small, steps: scenario.steps.slice(0, 8) })
  td.contents.write(0x5000n, 8, 0x1122334455667788n)
  // Through text, as a request body or a journal row carries it.
  return JSON.parse(JSON.stringify(saveTd(td))) as TdSnapshot
}

const { Readable: R, KernelExecutable: KX, UserExecutable: UX } = HvMapGpaFlags
const ALL = HV_MAP_GPA_PERMISSIONS_ALL

/** `overlay-hypercall-page` after `steps` steps (28: VTL0's page at 0x60, VTL1's at 0x90). */
async function hypercallPageMapped(steps: number): Promise<TdSnapshot> {
  const scenario = await loadScenarioFile(scenarios + 'overlay-hypercall-page.yaml')
  const td = createScenarioTd(scenario)
  runSteps(td, { ...scenario, steps: scenario.steps.slice(0, steps) })
  return JSON.parse(JSON.stringify(saveTd(td))) as TdSnapshot
}

/** What a fuzzer puts into a field (1e999 arrives from JSON text as Infinity). */
const MUTATIONS: unknown[] = [-1, Infinity, 2 ** 60, 0.5, 'x', 'bigint:0x-1', null, true, {}, []]

describe('snapshot validation (§ restore: every field checked before it is applied)', () => {
  it('the issue-15 reproductions are refused, naming the field', async () => {
    const saved = await sample()
    const cases: [(string | number)[], unknown][] = [
      [['platform', 'module', 'tdxFeatures0'], -1],
      [['platform', 'module', 'configFlags'], -1],
      [['platform', 'module', 'tdCtls'], '0x-1'],
      [['platform', 'trace', 'limit'], 1e8],
      [['vps', 0, 'exitVtl'], 5],
      [['vps', 0, 'vtls', 0, 'registers', 'rip'], Infinity],
      [['options', 'vps'], Infinity],
    ]
    for (const [path, value] of cases) {
      const bad = withLeaf(saved, path, value) as TdSnapshot
      let error: unknown
      try {
        restoreTd(bad)
      } catch (e) {
        error = e
      }
      expect(VtlError.isInstance(error), path.join('.')).toBe(true)
      const field = (error as VtlError).field ?? ''
      expect(field.replace(/\[(\d+)\]/g, '.$1'), path.join('.')).toBe(path.join('.'))
    }
  })

  it('fuzz: every field, every mutation: refused, or restored exactly as written', async () => {
    const saved = await sample()
    const paths = leaves(saved)
    expect(paths.length).toBeGreaterThan(150)
    let accepted = 0
    let refused = 0
    let cases = 0
    for (const [i, path] of paths.entries()) {
      // Three mutations per field, rotating, so every mutation meets every kind of field.
      for (const value of [0, 3, 7].map((k) => MUTATIONS[(i + k) % MUTATIONS.length])) {
        cases++
        const bad = withLeaf(saved, path, value) as TdSnapshot
        let td
        try {
          td = restoreTd(bad)
        } catch (error) {
          expect(VtlError.isInstance(error), `${path.join('.')} = ${String(value)}`).toBe(true)
          refused++
          continue
        }
        accepted++
        // Whatever is accepted is held as written: a restart (restore of the saved form) agrees.
        const again = JSON.parse(JSON.stringify(saveTd(td))) as TdSnapshot
        expect(again, `${path.join('.')} = ${String(value)}`).toEqual(bad)
        expect(saveTd(restoreTd(again))).toEqual(saveTd(td))
      }
    }
    expect(refused).toBeGreaterThan(cases * 0.9)
    expect(accepted + refused).toBe(cases)
  }, 120_000)

  it('refuses structure it does not know, and deep nesting', async () => {
    const saved = await sample()
    expect(() => {
      validateSnapshot({ ...saved, extra: 1 })
    }).toThrow(/extra/)
    let deep: unknown = 0
    for (let i = 0; i < 100; i++) deep = [deep]
    expect(() => {
      validateSnapshot({ ...saved, faults: deep })
    }).toThrow(/deeper/)
    expect(() => {
      validateSnapshot(withLeaf(saved, ['options', 'vps'], 4), { maxVps: 2 })
    }).toThrow(/options\.vps/)
  })
})

describe('snapshots from before TLB-lock halts and guest-RAM overlays', () => {
  it('restore as they were: no waits, no overlay page ever mapped', async () => {
    const current = await sample()
    const old = JSON.parse(JSON.stringify(current)) as TdSnapshot & {
      vps: {
        tlbWait?: unknown
        tlbWaitReleases?: unknown
        vtls: { overlayPrivate?: unknown; hypercallMsr?: unknown }[]
      }[]
    }
    for (const vp of old.vps) {
      delete vp.tlbWait
      delete vp.tlbWaitReleases
      for (const vtl of vp.vtls) {
        delete vtl.overlayPrivate
        delete vtl.hypercallMsr
      }
    }
    delete (old.memory as { overlays?: unknown }).overlays
    // validateSnapshot accepts what restoreTd accepts, and leaves the document as it was.
    const text = JSON.stringify(old)
    expect(() => {
      validateSnapshot(old)
    }).not.toThrow()
    expect(JSON.stringify(old)).toBe(text)
    expect(() => {
      validateSnapshot(withLeaf(old, ['vps', 0, 'vtls', 0, 'vpAssistPage'], 'bigint:0xG'))
    }).toThrow(/vps\[0\]\.vtls\[0\]\.vpAssistPage/)
    const td = restoreTd(old)
    expect(JSON.parse(JSON.stringify(saveTd(td)))).toEqual(current)
  })

  it('without memory.overlays: a mapped page gets back its permissions while mapped (§13.14)', async () => {
    // VTL0's hypercall page at 0x60, read/execute-only while mapped; unmapping gives back ALL.
    const saved = await hypercallPageMapped(28)
    expect(saved.memory.overlays).toEqual([
      { vtl: 0, gpn: '0x60', saved: ALL },
      { vtl: 1, gpn: '0x90', saved: ALL },
    ])
    delete (saved.memory as { overlays?: unknown }).overlays
    expect(() => {
      validateSnapshot(saved)
    }).not.toThrow()
    const restored = restoreTd(saved)
    expect(saveTd(restored).memory.overlays).toEqual([
      { vtl: 0, gpn: '0x60', saved: R | KX | UX },
      { vtl: 1, gpn: '0x90', saved: R | KX | UX },
    ])
    expect(restored.space.overlaySavedPermissions(0, 0x60n)).toBe(R | KX | UX)
  })

  it.each([
    { what: 'a holder that still holds the lock: its count now', steps: 13, wait: [[1], null] },
    { what: 'a holder that released it since: no wait', steps: 14, wait: [null, null] },
  ])('waits saved without release counts: $what (§13.15)', async ({ steps, wait }) => {
    const scenario = await loadScenarioFile(scenarios + 'tlb-lock-halts.yaml')
    const td = createScenarioTd(scenario)
    const report = runSteps(td, { ...scenario, steps: scenario.steps.slice(0, steps) })
    expect(report.steps[12]?.result).toMatchObject({ error: 'VpBlocked' })
    const saved = JSON.parse(JSON.stringify(saveTd(td))) as TdSnapshot & {
      vps: { tlbWait: unknown; tlbWaitReleases?: unknown }[]
    }
    expect(saved.vps[0]?.tlbWait).toEqual([[1], null])
    expect(saved.vps[0]?.tlbWaitReleases).toEqual([[0], null])
    for (const vp of saved.vps) delete vp.tlbWaitReleases
    const restored = restoreTd(saved)
    expect(restored.engine.vp(0).tlbWait).toEqual(wait.map((w) => w ?? undefined))
    expect(restored.engine.vp(0).tlbWaitReleases).toEqual(wait.map((w) => (w ? [0] : undefined)))
  })

  it('a wait for a VP that does not exist is refused, naming the field', async () => {
    const bad = withLeaf(await sample(), ['vps', 0, 'tlbWait', 0], [2]) as TdSnapshot
    expect(() => {
      validateSnapshot(bad)
    }).toThrow(/vps\[0\]\.tlbWait\[0\]\[0\]: must be within 0\.\.1/)
    const page = withLeaf(await sample(), ['vps', 0, 'vtls', 1, 'overlayPrivate'], {
      hypercall: { bytes: '00'.repeat(4096) },
    }) as TdSnapshot
    expect(() => {
      validateSnapshot(page)
    }).toThrow(/overlayPrivate\.hypercall: is not a snapshot field/)
  })
})

describe('memory.overlays (what unmapping an overlay page gives back, §13.14)', () => {
  const entry = (vtl: number, gpn: string, saved: unknown = ALL): unknown => ({ vtl, gpn, saved })
  it.each([
    { what: 'not a list', overlays: 'x', field: 'memory.overlays', why: /must be an array/ },
    {
      what: 'permissions past R W KX UX',
      overlays: [entry(0, '0x60', 16), entry(1, '0x90')],
      field: 'memory.overlays[0].saved',
      why: /within 0\.\.15/,
    },
    {
      what: 'a VTL other than 0 and 1',
      overlays: [entry(2, '0x60'), entry(1, '0x90')],
      field: 'memory.overlays[0].vtl',
      why: /within 0\.\.1/,
    },
    {
      what: 'a GPN past RAM',
      overlays: [entry(0, '0x800'), entry(1, '0x90')],
      field: 'memory.overlays[0].gpn',
      why: /below 0x800/,
    },
    {
      what: 'a GPN that is not hex',
      overlays: [entry(0, '96'), entry(1, '0x90')],
      field: 'memory.overlays[0].gpn',
      why: /0x hex/,
    },
    {
      what: 'an unknown key',
      overlays: [{ vtl: 0, gpn: '0x60', saved: ALL, count: 1 }, entry(1, '0x90')],
      field: 'memory.overlays[0].count',
      why: /not a snapshot field/,
    },
    {
      what: 'out of order',
      overlays: [entry(1, '0x90'), entry(0, '0x60')],
      field: 'memory.overlays[1]',
      why: /after the previous entry/,
    },
    {
      what: 'a page no MSR of that VTL maps',
      overlays: [entry(1, '0x60'), entry(1, '0x90')],
      field: 'memory.overlays[0]',
      why: /no overlay MSR of its VTL maps/,
    },
    {
      what: 'a mapped page left out',
      overlays: [entry(1, '0x90')],
      field: 'memory.overlays',
      why: /no entry for the page vps\[0\]\.vtls\[0\]\.hypercallMsr maps \(0x60\)/,
    },
    {
      what: 'more entries than mapped pages',
      overlays: [entry(0, '0x60'), entry(0, '0x60'), entry(1, '0x90')],
      field: 'memory.overlays',
      why: /at most 2 allowed/,
    },
  ])('refuses $what, naming the field', async ({ overlays, field, why }) => {
    const bad = withLeaf(await hypercallPageMapped(28), ['memory', 'overlays'], overlays)
    let error: unknown
    try {
      validateSnapshot(bad)
    } catch (e) {
      error = e
    }
    expect(VtlError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ code: 'E_INVALID_VALUE', field })
    expect((error as Error).message).toMatch(why)
  })

  it('restores the permissions as written, null included', async () => {
    const saved = await hypercallPageMapped(28)
    const chosen = withLeaf(
      saved,
      ['memory', 'overlays'],
      [entry(0, '0x60', R), entry(1, '0x90', null)]
    ) as TdSnapshot
    const td = restoreTd(chosen)
    expect(td.space.overlaySavedPermissions(0, 0x60n)).toBe(R)
    expect(td.space.overlaySavedPermissions(1, 0x90n)).toBeNull()
    expect(JSON.parse(JSON.stringify(saveTd(td)))).toEqual(chosen)
  })
})
