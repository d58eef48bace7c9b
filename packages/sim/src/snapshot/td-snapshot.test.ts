import { fileURLToPath } from 'node:url'
import { snapshotEngine } from '@vtl/core'
import { describe, expect, it } from 'vitest'
import { loadScenarioFile } from '../scenario/parse.js'
import { createScenarioTd, runSteps } from '../scenario/run.js'
import type { Scenario } from '../scenario/types.js'
import { restoreTd, saveTd } from './td-snapshot.js'

const scenarios = fileURLToPath(new URL('../../scenarios/', import.meta.url))

function slice(scenario: Scenario, from: number, to: number): Scenario {
  return { ...scenario, steps: scenario.steps.slice(from, to) }
}

describe('TD snapshots', () => {
  it.each(['canonical-boot.yaml', 'tlb-lock-blocks-flush.yaml', 'host-visibility-rw-rule.yaml'])(
    'save, restore into a fresh TD, continue both: %s',
    async (file) => {
      const scenario = await loadScenarioFile(scenarios + file)
      const cut = Math.floor(scenario.steps.length / 2)
      const original = createScenarioTd(scenario)
      runSteps(original, slice(scenario, 0, cut))
      const saved = saveTd(original)
      // Through text, as a file would carry it.
      const restored = restoreTd(JSON.parse(JSON.stringify(saved)) as typeof saved)
      expect(saveTd(restored)).toEqual(saved)
      expect(snapshotEngine(restored.engine)).toEqual(snapshotEngine(original.engine))

      const rest = slice(scenario, cut, scenario.steps.length)
      const a = runSteps(original, rest)
      const b = runSteps(restored, rest)
      expect(b).toEqual(a)
      expect(a.failed).toBe(0)
      expect(saveTd(restored)).toEqual(saveTd(original))
    }
  )

  it('carries pending contexts, armed faults and memory contents', async () => {
    const scenario = await loadScenarioFile(scenarios + 'boot-64-vps.yaml')
    const td = createScenarioTd(scenario)
    // Stop right after VTL1 queued the APs' contexts: every AP has a pending wake.
    runSteps(td, slice(scenario, 0, 40))
    td.faults.arm({ at: 'TDG.VP.WR', status: 'TDX_OPERAND_BUSY', after: 3 })
    td.contents.write(0x5000n, 8, 0x1122334455667788n)
    const saved = saveTd(td)
    const restored = restoreTd(saved)
    expect(restored.engine.shared.pendingOperation(1, 1)).toBe(
      td.engine.shared.pendingOperation(1, 1)
    )
    expect(restored.engine.shared.pendingOperation(1, 1)).not.toBe(0)
    expect(restored.faults.pending).toEqual(td.faults.pending)
    expect(restored.contents.read(0x5000n, 8)).toBe(0x1122334455667788n)
    expect(saveTd(restored)).toEqual(saved)
  })
})
