import { fileURLToPath } from 'node:url'
import {
  HvRegisterName,
  VmcsField,
  getVpRegister,
  type GuestVtl,
  type L2VmIndex,
  type VsmEngine,
} from '@vtl/core'
import {
  SoftwareTdxModule,
  compareExpectations,
  loadScenarioFile,
  parseScenario,
  runScenario,
  type PageAttr,
  type Scenario,
  type ScenarioReport,
  type SimTd,
} from '@vtl/sim'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MshvRequest } from '../uapi/mshv-requests.js'
import { runScenarioOnHw, type HwStepOutcome, type HwTd } from './hw-td.js'

const SCENARIO = fileURLToPath(
  new URL('../../../sim/scenarios/canonical-boot.yaml', import.meta.url)
)

const key = (encoding: number) => `0x${encoding.toString(16)}`
const SHADOW_CR0 = key(VmcsField.CR0_READ_SHADOW)
const SHADOW_CR4 = key(VmcsField.CR4_READ_SHADOW)
const GUEST_CR0 = key(VmcsField.GUEST_CR0)
const GUEST_CR4 = key(VmcsField.GUEST_CR4)

/** Every VMCS encoding core names, for a whole-VMCS comparison. */
const VMCS_FIELDS = [...new Set(Object.values(VmcsField))].sort((a, b) => a - b)

function attrRuns(module: SoftwareTdxModule, pages: number): [number, number, PageAttr][] {
  const runs: [number, number, PageAttr][] = []
  module.forEachAttrRun(0, pages, (start, end, attr) => {
    runs.push([start, end, { ...attr }])
  })
  return runs
}

function vmcs(module: SoftwareTdxModule, vp: number, vm: L2VmIndex): Record<string, string> {
  const out: Record<string, string> = {}
  for (const encoding of VMCS_FIELDS) {
    const value = module.vmcsRead(vp, vm, encoding)
    if (value !== undefined) out[`0x${encoding.toString(16)}`] = `0x${value.toString(16)}`
  }
  return out
}

/** The VSM state a guest can read, per VP: status registers from each VTL, and the active VTL. */
function vsmState(engine: VsmEngine): unknown[] {
  return engine.vps.map((vp) => {
    const read = (caller: GuestVtl, name: number) => {
      const r = getVpRegister(engine, vp.index, caller, caller, name)
      return `${r.status}:0x${r.value.toString(16)}`
    }
    return {
      vp: vp.index,
      exitVtl: vp.exitVtl,
      vtl1Active: vp.vtl1 !== undefined,
      vpStatus: [read(0, HvRegisterName.VsmVpStatus), read(1, HvRegisterName.VsmVpStatus)],
      partitionStatus: read(0, HvRegisterName.VsmPartitionStatus),
      partitionConfig: read(1, HvRegisterName.VsmPartitionConfig),
      vtl0Registers: vp.vtls[0].registers,
      vtl1Registers: vp.vtls[1].registers,
      shared: vp.shared,
    }
  })
}

/**
 * THE PROOF: vsm-on-tdx.md §4.6's canonical boot (canonical-boot.yaml) on the pure simulator
 * and on HwPlatform + SimKernel must give the same statuses and the same final state.
 */
describe('canonical VBS boot: HwPlatform + SimKernel against the pure simulator', () => {
  let scenario: Scenario
  let report: ScenarioReport
  let sim: SimTd | undefined
  let hw: { td: HwTd; steps: HwStepOutcome[] }
  let pages: number

  beforeAll(async () => {
    scenario = await loadScenarioFile(SCENARIO)
    pages = Number(scenario.partition.memory / 4096n)
    report = runScenario(scenario, {
      onTd: (td) => {
        sim = td
      },
    })
    hw = await runScenarioOnHw(scenario)
  })

  afterAll(async () => {
    await hw.td.close()
    expect(hw.td.kernel.leaks).toEqual([])
  })

  function simTd(): SimTd {
    if (sim === undefined) throw new Error('the pure simulator did not run')
    return sim
  }

  it('the pure simulator passes the scenario (the reference is sound)', () => {
    expect(report.failed).toBe(0)
    expect(report.steps).toHaveLength(scenario.steps.length)
  })

  it('every step gives the same VTL and the same result on both paths', () => {
    const mine = hw.steps.map((s, index) => ({ index, vtl: s.vtl, result: s.result }))
    const theirs = report.steps.map((s) => ({ index: s.index, vtl: s.vtl, result: s.result }))
    expect(mine).toEqual(theirs)
  })

  it("the hardware path meets the file's expectations", () => {
    const mismatches = scenario.steps.flatMap((step, index) => {
      const outcome = hw.steps[index]
      if (outcome === undefined) return [{ index, field: 'missing' }]
      const wrong =
        step.expect === undefined ? [] : compareExpectations(step.expect, outcome.result)
      const vtl = step.vtl !== undefined && step.vtl !== outcome.vtl ? [{ field: 'vtl' }] : []
      return [...wrong, ...vtl].map((m) => ({ index, ...m }))
    })
    expect(mismatches).toEqual([])
  })

  it('the hardware path went through the kernel: runs, TDCALLs and hypercalls by ioctl', () => {
    const { ioctls, hypervisor } = hw.td.kernel
    const count = (request: number) => ioctls.filter((c) => c.request === request).length
    expect(count(MshvRequest.MSHV_RETURN_TO_LOWER_VTL)).toBeGreaterThan(0)
    expect(count(MshvRequest.MSHV_VTL_TDCALL)).toBeGreaterThan(0)
    expect(count(MshvRequest.MSHV_HVCALL)).toBe(hypervisor.calls.length)
    // Every entry ran on the VP's own pinned thread.
    const runs = ioctls.filter((c) => c.request === MshvRequest.MSHV_RETURN_TO_LOWER_VTL)
    expect(runs.every((c) => c.cpu !== undefined)).toBe(true)
    // The only refusals: the runs a wake cancelled through the poll eventfd (EINTR) — VP 0 after
    // EnableVpVtl on itself, VP 1 after EnableVpVtl/StartVirtualProcessor from VP 0.
    const refused = ioctls.filter((c) => c.result < 0)
    expect(refused.map((c) => [c.request, c.cpu, c.result])).toEqual([
      [MshvRequest.MSHV_RETURN_TO_LOWER_VTL, 0, -4],
      [MshvRequest.MSHV_RETURN_TO_LOWER_VTL, 1, -4],
    ])
  })

  it("the run page carried the engine state: the same entries, at the contexts' RIPs", () => {
    for (let vp = 0; vp < scenario.partition.vps; vp++) {
      const theirs = simTd().module.entries(vp)
      const mine = hw.td.module.entries(vp)
      expect({ vp, count: mine.count, vm: mine.last?.vmIndex }).toEqual({
        vp,
        count: theirs.count,
        vm: theirs.last?.vmIndex,
      })
      if (mine.last !== undefined) {
        expect(mine.last.guestStateGpa).toBe(hw.td.kernel.guestStateGpa(vp))
      }
    }
    const firstVtl1 = (vp: number) => hw.td.entries.find((e) => e.vp === vp && e.vm === 2)?.rip
    expect(firstVtl1(0)).toBe(0x100000n) // ctx_bsp of EnableVpVtl(self)
    expect(firstVtl1(1)).toBe(0x110000n) // EnableVpVtl(1)'s context
    expect(hw.td.entries.filter((e) => e.vp >= 2)).toEqual([])
  })

  it('the same VsmVpStatus / VsmPartitionStatus / config and VTL state on every VP', () => {
    expect(vsmState(hw.td.engine)).toEqual(vsmState(simTd().engine))
  })

  it('the hypervisor was told the same things: control words, input bytes, results, in order', () => {
    const { calls } = simTd().hypervisor
    expect(calls.length).toBeGreaterThan(0)
    expect(hw.td.kernel.hypervisor.calls).toEqual(calls)
    expect(hw.td.kernel.hypervisor.anomalies).toEqual(simTd().hypervisor.anomalies)
  })

  it('the Secure EPT has the same attributes on every page, run by run', () => {
    const theirs = attrRuns(simTd().module, pages)
    expect(theirs.length).toBeGreaterThan(1)
    expect(attrRuns(hw.td.module, pages)).toEqual(theirs)
  })

  it('the same VMCS #2 (VTL1) and #1 (VTL0) fields on every VP, read shadows included', () => {
    const fresh = new SoftwareTdxModule({ vps: scenario.partition.vps })
    for (let vp = 0; vp < scenario.partition.vps; vp++) {
      for (const vm of [2, 1] as const) {
        const mine = vmcs(hw.td.module, vp, vm)
        expect({ vp, vm, fields: mine }).toEqual({ vp, vm, fields: vmcs(simTd().module, vp, vm) })
        // The read shadows follow the context (core's vmcsWrites writes both).
        if (mine[GUEST_CR0] !== vmcs(fresh, vp, vm)[GUEST_CR0]) {
          expect(mine[SHADOW_CR0]).toBe(mine[GUEST_CR0])
          expect(mine[SHADOW_CR4]).toBe(mine[GUEST_CR4])
        }
      }
    }
    // Not vacuous: the VTL1 contexts of VP 0 and VP 1 and VP 1's VTL0 start context were written.
    const changed = (vp: number, vm: L2VmIndex) =>
      Object.entries(vmcs(hw.td.module, vp, vm)).filter(
        ([field, value]) => vmcs(fresh, vp, vm)[field] !== value
      ).length
    expect(changed(0, 2)).toBeGreaterThan(10)
    expect(changed(1, 2)).toBeGreaterThan(10)
    expect(changed(1, 1)).toBeGreaterThan(10)
    expect(changed(2, 2)).toBe(0)
    // Nothing is left queued: every TDG.VP.WR reached its VP's VMCS before that VP's next entry.
    for (let vp = 0; vp < scenario.partition.vps; vp++) {
      expect(hw.td.hw.vpState(vp).pendingCount).toBe(0)
    }
  })
})

/**
 * A segment that is not present (a null LDTR, attributes 0): both paths write the VMX access
 * rights with bit 16 "unusable" (core's `vmxAccessRights`), the only value VM entry accepts for a
 * not-present LDTR (SDM guest-state checks). The proof once found the simulator writing 0 here.
 */
describe('a not-present segment in an initial context: HwPlatform against the pure simulator', () => {
  const text = `version: 1
name: null-ldtr
partition: { vps: 2, memory: 16MiB, startedVps: [0] }
steps:
  - vp: 0
    hypercall: { name: EnablePartitionVtl, input: { partitionId: self, targetVtl: 1 } }
    expect: { status: Success }
  - vp: 0
    hypercall:
      name: EnableVpVtl
      input:
        vpIndex: self
        targetVtl: 1
        vpContext: { rip: '0x100000', ldtr: { base: '0x0', limit: 0, selector: 0, attributes: 0 } }
    expect: { status: Success }
  - vp: 0
    vtlCall: {}
    expect: { activeVtl: 1 }
`

  it('same statuses and the same VMCS #2, with the unusable bit on the null LDTR', async () => {
    const scenario = parseScenario(text)
    let sim: SimTd | undefined
    const report = runScenario(scenario, {
      onTd: (td) => {
        sim = td
      },
    })
    const hw = await runScenarioOnHw(scenario)
    expect(report.failed).toBe(0)
    expect(hw.steps.map((s) => s.result)).toEqual(report.steps.map((s) => s.result))
    if (sim === undefined) throw new Error('the pure simulator did not run')
    const mine = vmcs(hw.td.module, 0, 2)
    const theirs = vmcs(sim.module, 0, 2)
    expect(mine).toEqual(theirs)
    expect(mine[key(VmcsField.GUEST_LDTR_AR)]).toBe('0x10000')
    await hw.td.close()
  })
})
