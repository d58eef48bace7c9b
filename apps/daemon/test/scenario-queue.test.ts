import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { ProblemError } from '../src/problem.js'
import { ScenarioWorkers, type ScenarioPoolLimits } from '../src/scenario-worker.js'

// Issue 15, finding 8: runs outlived their clients (after 12 timed-out runs even the canonical
// boot got 503 for 40 s) and the queue had no bound.

const CANONICAL = readFileSync(
  new URL('../../../packages/sim/scenarios/canonical-boot.yaml', import.meta.url),
  'utf8'
)
/** A run that takes far longer than any test waits: it only ends by being stopped. */
const LONG = JSON.stringify({
  version: 1,
  name: 'long',
  partition: { vps: 1, memory: '1MiB' },
  steps: Array.from({ length: 300_000 }, () => ({ vp: 0, run: {} })),
})

const pools: ScenarioWorkers[] = []
afterEach(async () => {
  for (const workers of pools.splice(0)) await workers.close()
})
function pool(limits: Partial<ScenarioPoolLimits>): ScenarioWorkers {
  const workers = new ScenarioWorkers(1, limits)
  pools.push(workers)
  return workers
}

const outcome = (run: Promise<unknown>): Promise<unknown> =>
  run.then(
    () => 'done',
    (error: unknown) => error
  )

describe('scenario runs are bounded', () => {
  it('a full queue is 429 E_BUSY; abandoned runs are stopped and free the pool', async () => {
    const workers = pool({ maxQueue: 1, timeoutMs: 600_000 })
    const a = new AbortController()
    const b = new AbortController()
    const first = outcome(workers.runScenario(LONG, 'application/json', a.signal))
    const second = outcome(workers.runScenario(LONG, 'application/json', b.signal))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(workers.queued).toBe(1)
    const third = await outcome(workers.runScenario(CANONICAL, 'application/yaml'))
    expect(third).toBeInstanceOf(ProblemError)
    expect(third).toMatchObject({ code: 'E_BUSY' })

    b.abort()
    expect(await second).toMatchObject({ code: 'E_BAD_REQUEST' })
    expect(workers.queued).toBe(0)
    a.abort()
    expect(await first).toMatchObject({ code: 'E_BAD_REQUEST' })
    const report = await workers.runScenario(CANONICAL, 'application/yaml')
    expect(report.failed).toBe(0)
  })

  it('a run past its deadline is stopped with E_TIMEOUT and the next one runs', async () => {
    const workers = pool({ timeoutMs: 4000 })
    expect(await outcome(workers.runScenario(LONG, 'application/json'))).toMatchObject({
      code: 'E_TIMEOUT',
    })
    expect((await workers.runScenario(CANONICAL, 'application/yaml')).failed).toBe(0)
  })
})
