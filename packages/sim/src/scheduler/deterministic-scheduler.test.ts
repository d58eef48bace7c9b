import { describe, expect, it } from 'vitest'
import { parseScenario } from '../scenario/parse.js'
import type { GuestAction } from '../scenario/types.js'
import { SimTd } from '../td/sim-td.js'
import { DeterministicScheduler, type GuestPrograms } from './deterministic-scheduler.js'

/** Parses a list of steps (one VP) into actions, through the scenario parser. */
function actions(yaml: string): GuestAction[] {
  const scenario = parseScenario(
    `version: 1\npartition: { vps: 4, memory: 16MiB }\nsteps:\n${yaml}`
  )
  return scenario.steps.map((s) => s.action)
}

/**
 * VP 0 brings VTL1 up and enables VP 1, VP 1 then races: its VTL0 writes and VtlCalls interleave
 * with VTL1's protection change on VP 0, and VP 2/3 just touch memory.
 */
function programs(): GuestPrograms {
  return new Map([
    [
      0,
      actions(`
  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1 } } }
  - { vp: 0, hypercall: { name: EnableVpVtl, input: {} } }
  - { vp: 0, vtlCall: {} }
  - { vp: 0, hypercall: { name: EnableVpVtl, input: { vpIndex: 1 } } }
  - { vp: 0, setRegister: { name: VsmPartitionConfig, value: "0x1f" } }
  - { vp: 0, setRegister: { name: Sint0, value: "0x30" } }
  - { vp: 0, hypercall: { name: ModifyVtlProtectionMask, input: { mapFlags: [R], gpns: [16] } } }
  - { vp: 0, vtlReturn: {} }`),
    ],
    [
      1,
      actions(`
  - { vp: 1, write: { gpa: "0x10000", value: 1 } }
  - { vp: 1, vtlCall: {} }
  - { vp: 1, write: { gpa: "0x10008", value: 2 } }
  - { vp: 1, vtlReturn: {} }
  - { vp: 1, read: { gpa: "0x10000" } }`),
    ],
    [
      2,
      actions(
        `  - { vp: 2, write: { gpa: "0x20000", value: 3 } }\n  - { vp: 2, read: { gpa: "0x10000" } }`
      ),
    ],
    [3, actions(`  - { vp: 3, run: {} }\n  - { vp: 3, interrupt: { vector: 64, vtl: 0 } }`)],
  ])
}

function run(seed: number) {
  const td = new SimTd({ vps: 4, memory: 16n << 20n, seed })
  const steps = new DeterministicScheduler(td).run(programs())
  return { steps, stats: td.trace.stats(), contents: td.contents.toJSON() }
}

describe('DeterministicScheduler', () => {
  it('replays a seed exactly', () => {
    for (const seed of [0, 1, 7, 12345]) expect(run(seed)).toEqual(run(seed))
  })

  it('interleaves differently under different seeds', () => {
    const orders = new Set(
      [1, 2, 3, 4, 5, 6, 7, 8].map((seed) =>
        run(seed)
          .steps.map((s) => `${s.kind}${s.vp}`)
          .join(',')
      )
    )
    expect(orders.size).toBeGreaterThan(1)
  })

  it('runs every program to the end and lets woken VPs handle their wakes', () => {
    const { steps } = run(3)
    const actionsRun = steps.filter((s) => s.kind === 'action').length
    expect(actionsRun).toBe([...programs().values()].reduce((n, a) => n + a.length, 0))
    // VP 1's wake (EnableVpVtl from VTL1) is handled either by a wake decision or its own step.
    const vp1 = steps.filter((s) => s.vp === 1)
    expect(vp1.length).toBeGreaterThanOrEqual(5)
  })
})
