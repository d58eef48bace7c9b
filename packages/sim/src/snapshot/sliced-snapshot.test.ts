import { fileURLToPath } from 'node:url'
import { VtlError } from '@vtl/core'
import { describe, expect, it } from 'vitest'
import { loadScenarioFile } from '../scenario/parse.js'
import { createScenarioTd, runSteps } from '../scenario/run.js'
import { restoreTd, restoreTdSliced, saveTd, saveTdSliced, type TdSnapshot } from './td-snapshot.js'

// #15: a big TD is saved and restored in slices, so a server's event loop gets turns meanwhile.
// No timing: with a zero slice every yield is a turn, so the turns counted show where it yields.

const scenarios = fileURLToPath(new URL('../../scenarios/', import.meta.url))

/** Counts the event loop's turns (setImmediate) while `work` runs. */
async function turnsDuring<T>(work: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0
  let running = true
  const tick = (): void => {
    turns++
    if (running) setImmediate(tick)
  }
  setImmediate(tick)
  try {
    const value = await work()
    return { value, turns }
  } finally {
    running = false
  }
}

async function booted64(): Promise<TdSnapshot> {
  const scenario = await loadScenarioFile(scenarios + 'boot-64-vps.yaml')
  const td = createScenarioTd(scenario)
  runSteps(td, { ...scenario, steps: scenario.steps.slice(0, 40) })
  return JSON.parse(JSON.stringify(saveTd(td))) as TdSnapshot
}

describe('sliced snapshots', () => {
  it('save and restore a 64-VP TD as the synchronous API does, with a turn per VP', async () => {
    const saved = await booted64()
    const restored = await turnsDuring(() => restoreTdSliced(saved, { sliceMs: 0 }))
    expect(restored.turns).toBeGreaterThan(3 * 64)
    expect(saveTd(restored.value)).toEqual(saveTd(restoreTd(saved)))
    const again = await turnsDuring(() => saveTdSliced(restored.value, { sliceMs: 0 }))
    expect(again.turns).toBeGreaterThanOrEqual(64)
    expect(JSON.parse(JSON.stringify(again.value))).toEqual(saved)
  })

  it('a long slice gives no turn: the work runs in one go', async () => {
    const saved = await booted64()
    const restored = await turnsDuring(() => restoreTdSliced(saved, { sliceMs: 60_000 }))
    expect(restored.turns).toBe(0)
  })

  it.each([
    [['vps', 63, 'exitVtl'], 5, 'vps[63].exitVtl'],
    [['guest', 'enteredVtl', 63], 2, 'guest.enteredVtl[63]'],
    [['faults'], {}, 'faults'],
  ] as const)(
    'a refusal late in the document (%j) comes after turns, as the synchronous one',
    async (path, value, field) => {
      const bad = JSON.parse(JSON.stringify(await booted64())) as Record<string, unknown>
      let node = bad
      for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>
      node[path[path.length - 1] as string] = value
      let sync: unknown
      try {
        restoreTd(bad as unknown as TdSnapshot)
      } catch (error) {
        sync = error
      }
      const sliced = await turnsDuring(() =>
        restoreTdSliced(bad as unknown as TdSnapshot, { sliceMs: 0 }).then(
          () => undefined,
          (error: unknown) => error
        )
      )
      expect(sliced.turns).toBeGreaterThan(64)
      expect(VtlError.isInstance(sliced.value)).toBe(true)
      expect(sliced.value).toMatchObject({ code: 'E_INVALID_VALUE', field })
      expect((sliced.value as VtlError).message).toBe((sync as VtlError).message)
    }
  )
})
