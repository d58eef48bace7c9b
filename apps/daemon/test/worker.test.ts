import { readFileSync } from 'node:fs'
import { parseScenario, runScenario } from '@vtl/sim'
import { afterEach, describe, expect, it } from 'vitest'
import { ProblemError } from '../src/problem.js'
import { runScenarioText } from '../src/scenario-run.js'
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

/** What the in-thread run throws: the problem the app answers. */
function inThreadProblem(text: string): { code: string; detail: string } {
  try {
    runScenarioText(text)
  } catch (error) {
    if (error instanceof ProblemError) return { code: error.code, detail: error.message }
    throw error
  }
  throw new Error('expected the scenario to fail')
}

describe('scenario workers', () => {
  it('answers the same report as an in-thread run', async () => {
    const report = await pool(1).runScenario(CANONICAL, 'application/yaml')
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
      .runScenario(text, 'application/yaml')
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
      workers.runScenario(CANONICAL, 'application/yaml'),
      workers.runScenario('version: [1', 'application/yaml'),
      workers.runScenario(CANONICAL, 'application/yaml'),
    ])
    expect(runs.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
  })

  it('close fails the queued runs (E_SHUTTING_DOWN) and stops the running one', async () => {
    const workers = pool(1)
    const running = workers.runScenario(CANONICAL, 'application/yaml')
    const queued = workers.runScenario(CANONICAL, 'application/yaml')
    const settled = Promise.allSettled([running, queued])
    await workers.close()
    const [run, queue] = await settled
    expect(run).toMatchObject({
      status: 'rejected',
      reason: { message: /worker thread exited with code \d+ before it answered/ },
    })
    expect(queue).toMatchObject({ status: 'rejected', reason: { code: 'E_SHUTTING_DOWN' } })
  })

  it('refuses new runs once closed', async () => {
    const workers = pool(1)
    await workers.close()
    await expect(workers.runScenario(CANONICAL, 'application/yaml')).rejects.toMatchObject({
      code: 'E_SHUTTING_DOWN',
    })
  })
})
