import { fileURLToPath } from 'node:url'
import { VtlError } from '@vtl/core'
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
    const td = restoreTd(old)
    expect(JSON.parse(JSON.stringify(saveTd(td)))).toEqual(current)
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
