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
