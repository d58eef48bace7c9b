import { readdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { snapshotEngine } from '@vtl/core'
import { describe, expect, it } from 'vitest'
import { loadScenarioFile } from '../scenario/parse.js'
import { createScenarioTd, runSteps } from '../scenario/run.js'
import type { Scenario } from '../scenario/types.js'
import { overlayMappings, overlayMsrs } from './overlay-snapshot.js'
import { restoreTd, saveTd } from './td-snapshot.js'

const scenarios = fileURLToPath(new URL('../../scenarios/', import.meta.url))

function slice(scenario: Scenario, from: number, to: number): Scenario {
  return { ...scenario, steps: scenario.steps.slice(from, to) }
}

const OVERLAY_SCENARIOS = [
  'instruction-intercepts-simp.yaml',
  'overlay-hypercall-page.yaml',
  'overlay-siefp-and-locks.yaml',
  'overlay-simp.yaml',
  'overlay-vp-assist-page.yaml',
]

/** The scenario files (simulated guests) in which some VTL maps an overlay page after some step. */
async function overlayScenarios(): Promise<string[]> {
  const found: string[] = []
  for (const file of (await readdir(scenarios)).filter((f) => f.endsWith('.yaml')).sort()) {
    const scenario = await loadScenarioFile(scenarios + file)
    if (scenario.partition.cpu === 'x86') continue
    const td = createScenarioTd(scenario)
    const maps = scenario.steps.some((_step, i) => {
      runSteps(td, slice(scenario, 0, i + 1), i)
      return overlayMappings(td.engine.vps.map((vp) => vp.vtls.map(overlayMsrs))).length > 0
    })
    if (maps) found.push(file)
  }
  return found
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
  // the GPA space: the snapshot carries the MSRs that map them and, in `memory.overlays`, the
  // permissions unmapping gives back (§13.14). Every scenario that maps one is cut after every
  // step: the restored TD must continue exactly as the uninterrupted run, unmapping included.
  it('finds the scenarios that map overlay pages', async () => {
    expect(await overlayScenarios()).toEqual([
      'instruction-intercepts-simp.yaml',
      'overlay-hypercall-page.yaml',
      'overlay-siefp-and-locks.yaml',
      'overlay-simp.yaml',
      'overlay-vp-assist-page.yaml',
    ])
  })

  it.each(OVERLAY_SCENARIOS)(
    'mapped overlays: save after every step, restore, continue as the uninterrupted run: %s',
    async (file) => {
      const scenario = await loadScenarioFile(scenarios + file)
      const full = runSteps(createScenarioTd(scenario), scenario)
      expect(full.failed).toBe(0)
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
        for (const { vtl, gpn } of saved.memory.overlays) {
          expect(restored.space.overlaySavedPermissions(vtl, BigInt(gpn))).toBe(
            original.space.overlaySavedPermissions(vtl, BigInt(gpn))
          )
        }
        const b = runSteps(restored, scenario, cut)
        expect(b, `${file} cut after step ${cut}`).toEqual(runSteps(original, scenario, cut))
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
