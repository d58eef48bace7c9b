import { setImmediate as turn } from 'node:timers/promises'
import { parseScenario, runScenario } from '@vtl/sim'
import { describe, expect, it } from 'vitest'
import { runOneInTurns } from './scenarios.js'

const steps = (n: number): string =>
  Array.from({ length: n }, (_, i) =>
    i % 2 === 0
      ? '  - { vp: 0, vtlCall: {} }'
      : '  - { vp: 0, vtlReturn: {}, expect: { activeVtl: 0 } }'
  ).join('\n')

const scenario = parseScenario(
  `version: 1
partition: { vps: 1, memory: 4MiB }
steps:
  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1 } } }
  - { vp: 0, hypercall: { name: EnableVpVtl, input: { targetVtl: 1 } } }
${steps(2498)}
`,
  'long.yaml'
)

describe('runOneInTurns', () => {
  it('gives the report runScenario gives, in chunks, letting the event loop run between them', async () => {
    const chunks: number[] = []
    let turns = 0
    const state = { running: true }
    const ticker = (async () => {
      while (state.running) {
        await turn()
        turns++
      }
    })()
    const run = await runOneInTurns('long.yaml', scenario, {}, (n) => chunks.push(n))
    state.running = false
    await ticker
    expect(chunks).toEqual([1000, 1000, 500])
    expect(turns).toBeGreaterThanOrEqual(2)
    expect(run.report).toEqual(runScenario(scenario))
    expect(run.report).toMatchObject({ passed: 2500, failed: 0 })
  })
})
