import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parseScenario } from './parse.js'
import { performStep } from '../guest/perform.js'
import { SimTd } from '../td/sim-td.js'
import { runScenario } from './run.js'
import type { GuestAction } from './types.js'

const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8')

describe('README', () => {
  it('its example scenario file runs and passes', () => {
    const yaml = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(yaml).toBeDefined()
    const report = runScenario(parseScenario(yaml ?? '', 'README.md'))
    expect(report.steps.filter((s) => !s.ok)).toEqual([])
    expect(report.passed).toBe(8)
    expect(report.stats.hypervisorCalls).toEqual({ EnablePartitionVtl: 1, EnableVpVtl: 1 })
  })

  it('its instruction-intercept example runs and passes', () => {
    const yaml = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].find((m) =>
      m[1]?.includes('hvci-wp-lock')
    )?.[1]
    expect(yaml).toBeDefined()
    const report = runScenario(parseScenario(yaml ?? '', 'README.md'))
    expect(report.steps.filter((s) => !s.ok)).toEqual([])
    expect(report.steps.at(-2)?.result).toMatchObject({
      intercept: { kind: 'register', register: 'Cr0' },
    })
  })

  it('its TypeScript example works as written', () => {
    const td = new SimTd({ vps: 4, memory: 64n << 20n })
    const [enablePartition, enableVp] = parseScenario(`
version: 1
partition: { vps: 4, memory: 64MiB }
steps:
  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1 } } }
  - { vp: 0, hypercall: { name: EnableVpVtl, input: { vpContext: { rip: "0x100000" } } } }
`).steps.map((s) => s.action)
    performStep(td, 0, enablePartition as GuestAction)
    performStep(td, 0, enableVp as GuestAction)
    const { result } = performStep(td, 0, { kind: 'vtlCall', input: 0n })
    expect(result.activeVtl).toBe(1)
    expect(td.stats()).toMatchObject({
      vtlSwitches: 1,
      hypervisorCalls: { EnablePartitionVtl: 1, EnableVpVtl: 1 },
    })
    expect(readme).toContain("performStep(td, 0, { kind: 'vtlCall', input: 0n })")
  })
})
