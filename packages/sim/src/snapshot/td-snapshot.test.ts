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

  // The overlay pages a VTL maps (SIMP, SIEFP, VP assist page, hypercall page) are registrations of
  // the GPA space, which the snapshot carries as the MSRs that map them.
  // A registration's saved permissions (what unmapping gives back) are not in the snapshot: the
  // hypercall page's differ from its read/execute ones, so that TD is checked to round-trip only.
  it.each([
    ['overlay-simp.yaml', true],
    ['overlay-siefp-and-locks.yaml', true],
    ['overlay-vp-assist-page.yaml', true],
    ['instruction-intercepts-simp.yaml', true],
    ['overlay-hypercall-page.yaml', false],
  ])(
    'mapped overlays: save after every step, restore, save again, continue: %s',
    async (file, continues) => {
      const scenario = await loadScenarioFile(scenarios + file)
      const full = runSteps(createScenarioTd(scenario), scenario)
      for (let cut = 1; cut < scenario.steps.length; cut++) {
        const original = createScenarioTd(scenario)
        runSteps(original, slice(scenario, 0, cut))
        const saved = saveTd(original)
        const restored = restoreTd(JSON.parse(JSON.stringify(saved)) as typeof saved)
        expect(saveTd(restored)).toEqual(saved)
        for (const run of saved.memory.runs) {
          const gpn = BigInt(run.start) >> 12n
          for (const vtl of [0, 1] as const) {
            expect(restored.space.overlayCount(vtl, gpn)).toBe(
              original.space.overlayCount(vtl, gpn)
            )
          }
        }
        if (!continues) continue
        const b = runSteps(restored, scenario, cut)
        expect(b).toEqual(runSteps(original, scenario, cut))
        expect(b.steps).toEqual(full.steps.slice(cut))
        expect(saveTd(restored)).toEqual(saveTd(original))
      }
    }
  )

  it('refuses a snapshot whose overlay MSR maps a page the space cannot register', async () => {
    const scenario = await loadScenarioFile(scenarios + 'overlay-simp.yaml')
    const td = createScenarioTd(scenario)
    runSteps(td, slice(scenario, 0, 8))
    const saved = JSON.parse(JSON.stringify(saveTd(td))) as ReturnType<typeof saveTd>
    const vtl1 = (saved.vps[0] as { vtls: { synic: { simp: string } }[] }).vtls[1]
    expect(vtl1?.synic.simp).toBe('bigint:0x70001')
    // 16 MiB: past the TD's 8 MiB of RAM.
    if (vtl1 !== undefined) vtl1.synic.simp = 'bigint:0x1000001'
    expect(() => restoreTd(saved)).toThrow(
      expect.objectContaining({
        code: 'E_INVALID_VALUE',
        field: 'vps[0].vtls[1].synic.simp',
        message: expect.stringContaining('maps no overlay page') as string,
      }) as Error
    )
  })
})
