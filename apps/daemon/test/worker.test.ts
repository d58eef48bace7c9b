import { readFileSync } from 'node:fs'
import { ScenarioError, parseScenario, runScenario } from '@vtl/sim'
import { VtlError } from '@vtl/core'
import { afterEach, describe, expect, it } from 'vitest'
import { ProblemError } from '../src/problem.js'
import { ScenarioWorkers } from '../src/scenario-worker.js'

const CANONICAL = readFileSync(
  new URL('../../../packages/sim/scenarios/canonical-boot.yaml', import.meta.url),
  'utf8'
)
const pools: ScenarioWorkers[] = []

function pool(size: number): ScenarioWorkers {
  const workers = new ScenarioWorkers(size)
  pools.push(workers)
  return workers
}

afterEach(async () => {
  for (const workers of pools.splice(0)) await workers.close()
})

/** What the in-thread run throws, as the problem the app makes of it. */
function inThreadProblem(text: string): { code: string; detail: string } {
  try {
    runScenario(parseScenario(text, 'request'))
  } catch (error) {
    if (error instanceof ScenarioError) return { code: 'E_SCENARIO', detail: error.message }
    if (VtlError.isInstance(error)) {
      return { code: 'E_SCENARIO', detail: `${error.message} (${error.code})` }
    }
    throw error
  }
  throw new Error('expected the scenario to fail')
}

describe('scenario workers', () => {
  it('answers the same report as an in-thread run', async () => {
    const report = await pool(1).runScenario(CANONICAL)
    expect(report).toEqual(runScenario(parseScenario(CANONICAL, 'request')))
    expect(report.failed).toBe(0)
  })

  it.each([
    { what: 'not YAML', text: 'version: [1' },
    {
      what: 'an unknown key',
      text: 'version: 1\nname: x\nbogus: 1\npartition: {vps: 1, memory: 1MiB}\nsteps: []',
    },
    {
      what: 'a partition the simulator refuses',
      text: 'version: 1\nname: x\npartition: { vps: 1, memory: 4097 }\nsteps: []',
    },
  ])('fails $what with the in-thread problem', async ({ text }) => {
    const expected = inThreadProblem(text)
    const error: unknown = await pool(1)
      .runScenario(text)
      .then(
        () => undefined,
        (e: unknown) => e
      )
    expect(error).toBeInstanceOf(ProblemError)
    expect({ code: (error as ProblemError).code, detail: (error as ProblemError).message }).toEqual(
      expected
    )
  })

  it('queues runs beyond its size and keeps its thread after a failed run', async () => {
    const workers = pool(1)
    const runs = await Promise.allSettled([
      workers.runScenario(CANONICAL),
      workers.runScenario('version: [1'),
      workers.runScenario(CANONICAL),
    ])
    expect(runs.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
  })

  it('refuses new runs once closed', async () => {
    const workers = pool(1)
    await workers.close()
    await expect(workers.runScenario(CANONICAL)).rejects.toMatchObject({ code: 'E_SHUTTING_DOWN' })
  })
})
