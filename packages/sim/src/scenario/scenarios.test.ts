import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { loadScenarioFile } from './parse.js'
import { runScenario } from './run.js'

const dir = fileURLToPath(new URL('../../scenarios/', import.meta.url))
const files = readdirSync(dir)
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .sort()

describe('scenario files', () => {
  it('has at least 20 scenarios', () => {
    expect(files.length).toBeGreaterThanOrEqual(20)
  })

  it.each(files)('%s passes', async (file) => {
    const scenario = await loadScenarioFile(dir + file)
    const report = runScenario(scenario)
    const failures = report.steps.filter((s) => !s.ok)
    expect(failures).toEqual([])
    expect(report.failed).toBe(0)
    expect(report.passed).toBe(scenario.steps.length)
  })
})

describe('report stats', () => {
  it('counts the canonical boot exactly', async () => {
    const report = runScenario(await loadScenarioFile(dir + 'canonical-boot.yaml'))
    // VP 0: →VTL1 (VtlCall), →VTL0 (VtlReturn), →VTL1 (intercept); VP 1: →VTL1 (StartVp), →VTL0.
    expect(report.stats).toEqual({
      vtlSwitches: 5,
      tdcalls: { 'TDG.MEM.PAGE.ATTR.WR': 33, 'TDG.VP.ENTER': 16, 'TDG.VP.WR': 129 },
      hypervisorCalls: { EnablePartitionVtl: 1, EnableVpVtl: 2 },
    })
    expect(report).toMatchObject({ version: 1, scenario: 'canonical-boot', seed: 1, failed: 0 })
    // Reports are plain JSON: 64-bit values are already hex strings.
    expect(JSON.parse(JSON.stringify(report))).toEqual(report)
  })
})
