import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { parseScenario } from '../scenario/parse.js'
import { createScenarioTd, runSteps } from '../scenario/run.js'
import type { GuestAction } from '../scenario/types.js'
import { SimTd } from '../td/sim-td.js'
import type { TraceEvent } from '../trace/trace.js'
import { performStep } from './perform.js'

function actions(yaml: string): GuestAction[] {
  return parseScenario(
    `version: 1\npartition: { vps: 2, memory: 8MiB }\nsteps:\n${yaml}`
  ).steps.map((s) => s.action)
}

/** Runs the steps on VP 0 and returns the guest hypercall events the trace recorded. */
function guestCalls(td: SimTd, steps: readonly GuestAction[]): TraceEvent[] {
  for (const action of steps) performStep(td, 0, action)
  return td.trace.events().filter((e) => e.kind === 'hypercall' && e.args.forwarded !== true)
}

const BOOT = `
  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1 } } }
  - { vp: 0, hypercall: { name: EnableVpVtl, input: { vpContext: { rip: "0x9000" } } } }
  - { vp: 0, vtlCall: {} }`

const REP_CALLS = ['ModifyVtlProtectionMask', 'SetVpRegisters']

describe('the paravisor’s hypercall exit traces each guest hypercall', () => {
  it.each([
    {
      title: 'a completed call: code, TLFS name, HvStatus, caller VTL',
      steps: BOOT,
      calls: [
        { vtl: 0, name: 'EnablePartitionVtl', args: { code: 0x0d, status: 'Success' } },
        { vtl: 0, name: 'EnableVpVtl', args: { code: 0x0f, status: 'Success' } },
        { vtl: 0, name: 'VtlCall', args: { code: 0x11, status: 'Success' } },
      ],
    },
    {
      title: 'a refused call with its HvStatus',
      steps: `
  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1 } } }
  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1 } } }`,
      calls: [
        { vtl: 0, name: 'EnablePartitionVtl', args: { code: 0x0d, status: 'Success' } },
        { vtl: 0, name: 'EnablePartitionVtl', args: { code: 0x0d, status: 'InvalidVtlState' } },
      ],
    },
    {
      title: 'a VTL call that faults (#UD before VTL1 is enabled)',
      steps: `
  - { vp: 0, vtlCall: {} }`,
      calls: [{ vtl: 0, name: 'VtlCall', args: { code: 0x11, status: '#UD' } }],
    },
    {
      title: 'a rep call from VTL1 with its rep count and reps completed',
      steps: `${BOOT}
  - { vp: 0, setRegister: { name: VsmPartitionConfig, value: '0x1f' } }
  - { vp: 0, hypercall: { name: ModifyVtlProtectionMask, input: { targetVtl: 1, mapFlags: [R], gpaPageList: ['0x10', '0x11'] } } }`,
      calls: [
        { name: 'EnablePartitionVtl' },
        { name: 'EnableVpVtl' },
        { name: 'VtlCall' },
        { vtl: 1, name: 'SetVpRegisters', args: { repCount: 1, repsCompleted: 1 } },
        {
          vtl: 1,
          name: 'ModifyVtlProtectionMask',
          args: { code: 0x0c, status: 'Success', repCount: 2, repsCompleted: 2 },
        },
      ],
    },
  ])('$title', ({ steps, calls }) => {
    const td = new SimTd({ vps: 2, memory: 8n << 20n })
    const events = guestCalls(td, actions(steps))
    expect(events).toMatchObject(calls)
    for (const e of events) {
      // Only rep calls carry rep counts.
      expect('repCount' in e.args).toBe(REP_CALLS.includes(e.name))
    }
  })

  it('lasts from the VMCALL exit to completion in simulated cycles (the forward inside it)', () => {
    const td = new SimTd({ vps: 2, memory: 8n << 20n })
    const before = td.clock.now(0)
    const [call] = guestCalls(td, actions(BOOT).slice(0, 1))
    const forward = td.trace.events().find((e) => e.args.forwarded === true)
    const step = td.trace.events().find((e) => e.kind === 'step')
    expect(call?.simCycles).toBeGreaterThanOrEqual(before)
    expect(call?.simCycles).toBeGreaterThanOrEqual(step?.simCycles ?? Infinity)
    const end = (call?.simCycles ?? 0) + (call?.durCycles ?? 0)
    // The call's span holds the L2 exit's cost, the handler's, its TDCALLs and the forward.
    expect(call?.durCycles).toBeGreaterThan(td.cost.hypercallHandler)
    expect(forward?.simCycles).toBeGreaterThan(call?.simCycles ?? Infinity)
    expect(forward?.simCycles).toBeLessThan(end)
    expect(end).toBeLessThanOrEqual(td.clock.now(0))
  })

  it('keeps a forwarded call a separate VTL2 event, counted once in stats', () => {
    const td = new SimTd({ vps: 2, memory: 8n << 20n })
    guestCalls(td, actions(BOOT).slice(0, 1))
    const calls = td.trace.events().filter((e) => e.kind === 'hypercall')
    expect(calls.map((e) => [e.vtl, e.name, e.args.forwarded ?? false])).toEqual([
      [2, 'EnablePartitionVtl', true],
      [0, 'EnablePartitionVtl', false],
    ])
    expect(td.stats().hypervisorCalls).toEqual({ EnablePartitionVtl: 1 })
    expect(td.trace.stats().hypervisorCalls).toEqual({ EnablePartitionVtl: 1 })
  })

  it('records a call that waited on a TLB lock once, when it completes', () => {
    const text = readFileSync(
      new URL('../../scenarios/tlb-lock-blocks-flush.yaml', import.meta.url),
      'utf8'
    )
    const scenario = parseScenario(text)
    const td = createScenarioTd(scenario)
    expect(runSteps(td, scenario).failed).toBe(0)
    const flushes = td.trace.events().filter((e) => e.name === 'FlushVirtualAddressSpace')
    expect(flushes).toMatchObject([
      { kind: 'hypercall', vp: 0, vtl: 0, args: { status: 'Success' } },
    ])
  })

  it('records nothing when the TD keeps no trace events', () => {
    const td = new SimTd({ vps: 2, memory: 8n << 20n, traceEvents: false })
    expect(guestCalls(td, actions(BOOT))).toEqual([])
  })
})
