import { describe, expect, it, vi } from 'vitest'
import { parseSteps, parseStepsSliced } from '../src/guest-steps.js'
import { TimeSlice } from '../src/time-slice.js'

// A ScenarioError from an older installed @vtl/sim (no `problem` field; isInstance still
// recognises it): a chunk's error is renumbered from its message, never ending in "undefined"
// (review LOW 7).
vi.mock('@vtl/sim', async (original) => {
  const sim = await original<typeof import('@vtl/sim')>()
  return {
    ...sim,
    parseScenarioData: (...args: Parameters<typeof sim.parseScenarioData>) => {
      try {
        return sim.parseScenarioData(...args)
      } catch (error) {
        if (sim.ScenarioError.isInstance(error)) delete (error as { problem?: string }).problem
        throw error
      }
    },
  }
})

const meta = { vps: 1, memory: '0x100000', gpaWidth: 48, mbec: true } as Parameters<
  typeof parseSteps
>[0]
const writes = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ vp: 0, write: { gpa: '0x1000', size: 8, value: i } }))

describe('steps refused by an older @vtl/sim', () => {
  it('a bad step late names its index in the whole request and its problem text', async () => {
    const bad = [...writes(100), { vp: 0, write: { gpa: 'x', size: 8, value: 1 } }]
    let whole: unknown
    try {
      parseSteps(meta, bad)
    } catch (error) {
      whole = error
    }
    expect(whole).toMatchObject({ code: 'E_VALIDATION' })
    const message = (whole as Error).message
    expect(message).toMatch(/^request \(step 100\): steps\[100\]\.write/)
    expect(message).not.toContain('undefined')
    await expect(parseStepsSliced(meta, bad, new TimeSlice(0))).rejects.toThrow(message)
  })
})
