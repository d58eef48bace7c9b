import { fileURLToPath } from 'node:url'
import { HypercallCode, TdxGp, VmxExitBasic } from '@vtl/core'
import { Trace, loadScenarioFile, runScenario, type SimTd, type TraceEvent } from '@vtl/sim'
import { describe, expect, it } from 'vitest'
import { defaultAllowedHypercalls } from '../devices/allow-bitmap.js'
import { HypercallNotAllowedError } from '../devices/hvcall-device.js'
import { HwPlatform } from '../platform/hw-platform.js'
import { HwTd, runScenarioOnHw } from './hw-td.js'
import { SimKernel } from './sim-kernel.js'

const CANONICAL = fileURLToPath(
  new URL('../../../sim/scenarios/canonical-boot.yaml', import.meta.url)
)

/** A guest hypercall as both paths must record it (the cycles differ: this path has no clock). */
const guestHypercalls = (events: readonly TraceEvent[]) =>
  events
    .filter((e) => e.kind === 'hypercall' && e.args.forwarded !== true)
    .map(({ vp, vtl, name, args }) => ({
      vp,
      vtl,
      name,
      status: args.status,
      repCount: args.repCount,
      repsCompleted: args.repsCompleted,
    }))

describe('HwPlatform on a SimKernel', () => {
  it('the README example: capabilities, a scenario on both paths, nothing left behind', async () => {
    const kernel = new SimKernel({ vps: 2, memory: 64n << 20n })
    const hw = await HwPlatform.open({ sys: kernel, cpuCount: 2 })
    expect(hw.capabilities.LOWER_VTL_TIMER_VIRT).toBe(1)
    await hw.close()
    expect(kernel.leaks).toEqual([])
    const scenario = await loadScenarioFile(CANONICAL)
    const reference = runScenario(scenario)
    const { td, steps } = await runScenarioOnHw(scenario)
    expect(steps.map((s) => s.result)).toEqual(reference.steps.map((s) => s.result))
    await td.close()
    expect(td.kernel.leaks).toEqual([])
  })

  it('the canonical boot records the same guest hypercalls on both paths', async () => {
    const scenario = await loadScenarioFile(CANONICAL)
    let sim: SimTd | undefined
    runScenario(scenario, { onTd: (td) => (sim = td) })
    if (sim === undefined) throw new Error('no simulator TD')
    const expected = guestHypercalls(sim.trace.events())
    expect(expected.map((e) => e.name)).toContain('VtlReturn')
    expect(expected.some((e) => e.repCount !== undefined)).toBe(true)
    const trace = new Trace()
    const { td } = await runScenarioOnHw(scenario, { trace })
    expect(td.trace).toBe(trace)
    expect(guestHypercalls(trace.events())).toEqual(expected)
    // Only guest hypercalls, at cycle 0 (no simulated clock on this path).
    for (const event of trace.events()) {
      expect(event).toMatchObject({ kind: 'hypercall', simCycles: 0, durCycles: 0 })
    }
    await td.close()
  })

  it('VpRunner round trip: private registers into the run page, the exit and RIP back', async () => {
    const kernel = new SimKernel({ vps: 2 })
    const hw = await HwPlatform.open({ sys: kernel, cpuCount: 2 })
    const seen: { cpu: number; vm: number; rip: bigint; rsp: bigint; rbx: bigint }[] = []
    kernel.guest = (cpu, vm, state) => {
      seen.push({
        cpu,
        vm,
        rip: state.rip,
        rsp: state.gps[TdxGp.RSP] ?? 0n,
        rbx: state.gps[TdxGp.RBX] ?? 0n,
      })
      state.rip += 3n
      return { exitReason: VmxExitBasic.VMCALL, instructionInfo: 3n << 32n }
    }
    const state = hw.vpState(1)
    state.banks[1].rip = 0x100000n
    state.banks[1].rsp = 0x200000n
    const runner = await hw.runner(1)
    const gprs = Array.from({ length: 16 }, (_, i) => BigInt(i) * 0x11n)
    const outcome = await runner.run({ vtl: 1, gprs })
    expect(seen).toEqual([{ cpu: 1, vm: 2, rip: 0x100000n, rsp: 0x200000n, rbx: 0x33n }])
    expect(outcome.kind).toBe('exit')
    if (outcome.kind !== 'exit') throw new Error('no exit')
    expect(outcome.enter.vmxExit.basicReason).toBe(VmxExitBasic.VMCALL)
    expect(outcome.exitInfo.r11).toBe(3n << 32n)
    expect(state.banks[1].rip).toBe(0x100003n)
    expect(state.banks[0].rip).toBe(0xfff0n)
    // A wake before the run cancels it (poll eventfd → run->cancel → EINTR → 'cancelled').
    hw.wake(1)
    expect(await runner.run({ vtl: 1, gprs })).toEqual({ kind: 'cancelled' })
    expect(seen).toHaveLength(1)
    expect((await runner.run({ vtl: 1, gprs })).kind).toBe('exit')
    expect(seen).toHaveLength(2)
    await hw.close()
    expect(kernel.leaks).toEqual([])
  })

  it('the allow bitmap matters: without EnableVpVtl the canonical boot stops at step 2', async () => {
    const scenario = await loadScenarioFile(CANONICAL)
    const allowed = defaultAllowedHypercalls().filter((c) => c !== HypercallCode.EnableVpVtl)
    const trace = new Trace()
    const td = await HwTd.fromScenario(scenario, { allowedHypercalls: allowed, trace })
    const [first, second] = scenario.steps
    if (first === undefined || second === undefined) throw new Error('short scenario')
    expect((await td.step(first.vp, first.action)).result).toMatchObject({ status: 'Success' })
    await expect(td.step(second.vp, second.action)).rejects.toBeInstanceOf(HypercallNotAllowedError)
    // The host never heard of it.
    expect(td.kernel.hypervisor.calls.map((c) => c.name)).toEqual(['EnablePartitionVtl'])
    // A call the kernel refused never completed, so the trace has only the first.
    expect(guestHypercalls(trace.events()).map((e) => e.name)).toEqual(['EnablePartitionVtl'])
    await td.close()
  })
})
