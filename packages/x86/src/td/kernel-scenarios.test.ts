import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { loadScenarioFile, runScenario } from '@vtl/sim'
import { describe, expect, it } from 'vitest'
import { cToolchainAvailable, KERNELS_DIR } from '../test/kernels.js'
import { guestCodeSkip } from '../test/skip.js'
import { x86ScenarioCpu } from './scenario-cpu.js'

const skip = guestCodeSkip()

const scenarios = readdirSync(KERNELS_DIR).filter((d) =>
  existsSync(join(KERNELS_DIR, d, 'scenario.yaml'))
)
/** Kernels written in C need the SDK's Makefile recipe (make, cc, objcopy). */
const inC = (name: string) => readdirSync(join(KERNELS_DIR, name)).some((f) => f.endsWith('.c'))
const cToolchain = cToolchainAvailable()

describe.skipIf(skip)('bundled kernel scenarios (cpu: x86, built from source)', () => {
  it.each(scenarios.filter((name) => cToolchain || !inC(name)))(
    '%s passes every expectation',
    async (name) => {
      const scenario = await loadScenarioFile(join(KERNELS_DIR, name, 'scenario.yaml'))
      const report = runScenario(scenario, { cpu: x86ScenarioCpu })
      expect(report.steps.filter((s) => !s.ok)).toEqual([])
      expect(report.failed).toBe(0)
    }
  )
})
