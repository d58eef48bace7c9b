import { fileURLToPath } from 'node:url'
import { fc, test } from '@fast-check/vitest'
import { VmcsField, type L2VmIndex, type VsmEngine } from '@vtl/core'
import {
  loadScenarioFile,
  parseScenario,
  runScenario,
  type Scenario,
  type SimTd,
  type SoftwareTdxModule,
} from '@vtl/sim'
import { describe, expect, it } from 'vitest'
import { runScenarioOnHw } from './hw-td.js'

const dir = (name: string): string =>
  fileURLToPath(new URL(`../../../sim/scenarios/${name}`, import.meta.url))

const VMCS_FIELDS = [...new Set(Object.values(VmcsField))].sort((a, b) => a - b)

function vmcs(module: SoftwareTdxModule, vp: number, vm: L2VmIndex): Record<string, string> {
  const out: Record<string, string> = {}
  for (const encoding of VMCS_FIELDS) {
    const value = module.vmcsRead(vp, vm, encoding)
    if (value !== undefined) out[`0x${encoding.toString(16)}`] = `0x${value.toString(16)}`
  }
  return out
}

/**
 * What both paths must agree on after a run: the engine's registers, VMCS #1/#2, guest RAM. The
 * kernel path applies VMCS writes at the next entry, so runs end with an entry (`run: {}`).
 */
function finalState(engine: VsmEngine, module: SoftwareTdxModule, contents: { toJSON(): unknown }) {
  return {
    vps: engine.vps.map((vp) => ({
      exitVtl: vp.exitVtl,
      shared: vp.shared,
      registers: [vp.vtls[0].registers, vp.vtls[1].registers],
      control: [vp.vtls[0].control, vp.vtls[1].control],
      vmcs: [vmcs(module, vp.index, 1), vmcs(module, vp.index, 2)],
    })),
    // Every page with data: the hypercall input/output pages and the overlay pages included.
    ram: contents.toJSON(),
  }
}

/** Runs `scenario` on the software TD and on HwPlatform + SimKernel; both results. */
async function bothPaths(scenario: Scenario) {
  let sim: SimTd | undefined
  const report = runScenario(scenario, {
    onTd: (td) => {
      sim = td
    },
  })
  const hw = await runScenarioOnHw(scenario)
  try {
    if (sim === undefined) throw new Error('the pure simulator did not run')
    return {
      sim: {
        steps: report.steps.map((s) => ({ vtl: s.vtl, result: s.result })),
        state: finalState(sim.engine, sim.module, sim.contents),
      },
      hw: {
        steps: hw.steps.map((s) => ({ vtl: s.vtl, result: s.result })),
        state: finalState(hw.td.engine, hw.td.module, hw.td.contents),
      },
      failed: report.failed,
    }
  } finally {
    await hw.td.close()
  }
}

/**
 * The SimKernel proof over guest memory: the same guest, at the register level, through core's
 * one VP loop on the software TD and on the kernel path gives identical statuses, registers,
 * VMCS #1/#2 and guest RAM (overlay pages and hypercall pages byte for byte).
 */
describe('guest memory and overlays: HwPlatform + SimKernel against the pure simulator', () => {
  it.each([
    'canonical-boot.yaml',
    'overlay-vp-assist-page.yaml',
    'overlay-simp.yaml',
    'overlay-siefp-and-locks.yaml',
    'overlay-hypercall-page.yaml',
    'hypercall-pages.yaml',
    'tlb-lock-blocks-flush.yaml',
    'tlb-lock-halts.yaml',
    'hvci-cr-locking.yaml',
    'msr-intercept-lstar.yaml',
    'io-port-intercept.yaml',
    'instruction-intercepts-simp.yaml',
  ])('%s', async (file) => {
    const run = await bothPaths(await loadScenarioFile(dir(file)))
    expect(run.failed).toBe(0)
    expect(run.hw.steps).toEqual(run.sim.steps)
    expect(run.hw.state).toEqual(run.sim.state)
  })

  it('a VMCALL at CPL 3 gets #GP through the loop on both paths, RIP on the VMCALL', async () => {
    // VTL1's context runs at CPL 3 (SS.DPL 3): its hypercall faults before dispatch (§7.2).
    const scenario = parseScenario(`version: 1
partition: { vps: 1, memory: 8MiB }
steps:
  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1 } } }
  - vp: 0
    hypercall:
      name: EnableVpVtl
      input: { targetVtl: 1, vpContext: { rip: '0x4000', ss: { selector: '0x2b', attributes: '0xf3' } } }
  - { vp: 0, vtlCall: {}, expect: { activeVtl: 1 } }
  - { vp: 0, getRegister: { name: VsmVpStatus }, expect: { exception: GP, activeVtl: 1 } }
  - { vp: 0, vtlReturn: {}, expect: { exception: GP, activeVtl: 1 } }
  - { vp: 0, run: {} }`)
    const run = await bothPaths(scenario)
    expect(run.failed).toBe(0)
    expect(run.hw.steps).toEqual(run.sim.steps)
    expect(run.hw.state).toEqual(run.sim.state)
    // RIP stayed on the VMCALL: VtlCall's context RIP, not advanced by the faulting calls.
    expect(run.sim.state.vps[0]?.registers[1]?.rip).toBe(0x4000n)
  })
})

/** One random guest action after VTL1 is up on VP 0 (a small alphabet around the overlays). */
const action = fc.oneof(
  fc.constant('  - { vp: 0, vtlCall: {} }'),
  fc.boolean().map((fast) => `  - { vp: 0, vtlReturn: { fast: ${fast} } }`),
  fc
    .tuple(fc.integer({ min: 0x40, max: 0x47 }), fc.constantFrom(1, 2, 4, 8))
    .map(
      ([page, size]) =>
        `  - { vp: 0, read: { gpa: '0x${(page * 0x1000 + 8).toString(16)}', size: ${size} } }`
    ),
  fc
    .tuple(fc.integer({ min: 0x40, max: 0x47 }), fc.bigInt({ min: 0n, max: 0xffffn }))
    .map(
      ([page, value]) =>
        `  - { vp: 0, write: { gpa: '0x${(page * 0x1000 + 16).toString(16)}', size: 8, value: '0x${value.toString(16)}' } }`
    ),
  fc
    .tuple(
      fc.constantFrom('VpAssistPage', 'Simp', 'Siefp'),
      fc.integer({ min: 0x40, max: 0x47 }),
      fc.boolean()
    )
    .map(
      ([name, page, on]) =>
        `  - { vp: 0, setRegister: { name: ${name}, value: '0x${(page * 0x1000 + (on ? 1 : 0)).toString(16)}' } }`
    ),
  fc
    .constantFrom('Sint0', 'VsmVina', 'VpAssistPage')
    .map((name) => `  - { vp: 0, getRegister: { name: ${name} } }`),
  fc.constant("  - { vp: 0, setRegister: { name: Sint0, value: '0x31' } }"),
  fc.constant("  - { vp: 0, setRegister: { name: VsmVina, value: '0x3f0' } }"),
  fc
    .tuple(fc.integer({ min: 0x40, max: 0x47 }), fc.constantFrom('[]', '[R]', '[R, W]'))
    .map(
      ([page, flags]) =>
        `  - { vp: 0, hypercall: { name: ModifyVtlProtectionMask, input: { mapFlags: ${flags}, gpns: ['0x${page.toString(16)}'] } } }`
    ),
  fc
    .tuple(fc.integer({ min: 0x20, max: 0xff }), fc.constantFrom(0, 1))
    .map(([vector, vtl]) => `  - { vp: 0, interrupt: { vector: ${vector}, vtl: ${vtl} } }`),
  fc.constant('  - { vp: 0, eoi: {} }'),
  fc.constant(
    "  - { vp: 0, hypercall: { code: '0x0002', input: '000000000000000001000000000000000000000000000000' } }"
  )
)

/** A property: random guest programs give the same report and state on both backings. */
test.prop([fc.array(action, { minLength: 1, maxLength: 25 })], { numRuns: 12 })(
  'random guest programs give identical reports on the software TD and the kernel path',
  async (actions) => {
    const scenario = parseScenario(`version: 1
partition: { vps: 1, memory: 8MiB }
steps:
  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1 } } }
  - { vp: 0, hypercall: { name: EnableVpVtl, input: { targetVtl: 1, vpContext: { rflags: '0x202' } } } }
  - { vp: 0, vtlCall: {} }
  - { vp: 0, setRegister: { name: VsmPartitionConfig, value: '0x1f' } }
${actions.join('\n')}
  - { vp: 0, run: {} }`)
    const run = await bothPaths(scenario)
    expect(run.hw.steps).toEqual(run.sim.steps)
    expect(run.hw.state).toEqual(run.sim.state)
  }
)
