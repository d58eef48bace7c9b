import { VmcsField } from '@vtl/core'
import { describe, expect, it } from 'vitest'
import { performStep } from '../guest/perform.js'
import { parseScenario } from '../scenario/parse.js'
import type { GuestAction } from '../scenario/types.js'
import { SimTd } from './sim-td.js'

function actions(yaml: string, vps = 2): GuestAction[] {
  return parseScenario(
    `version: 1\npartition: { vps: ${vps}, memory: 8MiB }\nsteps:\n${yaml}`
  ).steps.map((s) => s.action)
}

const ENABLE = actions(`
  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1 } } }
  - { vp: 0, hypercall: { name: EnableVpVtl, input: { vpContext: { cr3: "0x7000", rip: "0x9000" } } } }
  - { vp: 0, vtlCall: {} }`)

describe('SimTd', () => {
  it('creates a 1 TiB, 1024-VP TD without per-page or per-VP platform state', () => {
    const td = new SimTd({ vps: 1024, memory: 1n << 40n, traceEvents: false })
    expect(td.module.storageStats().pageRuns).toBeLessThanOrEqual(2)
    expect(td.module.storageStats().vpStates).toBe(0)
    expect(td.space.runCount).toBeLessThanOrEqual(2)
    // The VTL1 sweep of EnablePartitionVtl runs at 1 GiB: 1024 ATTR.WRs for 1 TiB.
    const { result } = performStep(td, 0, ENABLE[0] as GuestAction)
    expect(result.status).toBe('Success')
    expect(td.stats().tdcalls['TDG.MEM.PAGE.ATTR.WR']).toBe(1024)
    expect(td.module.pageAttr((1n << 28n) - 1n).vm2).not.toBe(0)
  })

  it("keeps the last step's reused objects out of its public members", () => {
    const td = new SimTd({ vps: 2, memory: 8n << 20n, traceEvents: false })
    for (const action of ENABLE) performStep(td, 0, action)
    // No string-keyed member holds the step scratch (the guest's registers and RAM of the last step).
    expect('scratch' in td).toBe(false)
    const members = Object.getOwnPropertyNames(td).map(
      (k) => (td as unknown as Record<string, unknown>)[k]
    )
    expect(members.some((m) => m instanceof Object && m.constructor.name === 'StepScratch')).toBe(
      false
    )
  })

  it('boots per scenario-format.md: VTL0 full access, VTL1 none, startedVps running', () => {
    const td = new SimTd({ vps: 3, memory: 8n << 20n, startedVps: [0, 2] })
    const attr = td.module.pageAttr(5)
    expect(attr.accepted).toBe(true)
    expect(attr.vm1 & 0xf).toBe(0xf)
    expect(attr.vm2).toBe(0)
    expect(td.engine.vp(1).vtls[0].apic.activity).toBe('wait-for-sipi')
    expect(td.engine.vp(2).vtls[0].apic.activity).toBe('running')
    // The once-only started flag: VP 0 alone (§13.7).
    expect([0, 1, 2].map((vp) => td.engine.shared.started(vp))).toEqual([true, false, false])
  })

  it('answers AccessDenied when the partition has no VSM (§3 row 5, NotPlatformSupported)', () => {
    const td = new SimTd({ vps: 1, memory: 8n << 20n, accessVsmPrivilege: false })
    const { result } = performStep(td, 0, ENABLE[0] as GuestAction)
    expect(result).toMatchObject({ status: 'AccessDenied', code: 6 })
    expect(td.stats().hypervisorCalls).toEqual({})
  })

  it('applies an initial context with TDG.VP.WR on VMCS #2 and counts every TDCALL', () => {
    const td = new SimTd({ vps: 2, memory: 8n << 20n })
    for (const action of ENABLE) performStep(td, 0, action)
    expect(td.engine.vp(0).exitVtl).toBe(1)
    expect(td.module.vmcsRead(0, 2, VmcsField.GUEST_CR3)).toBe(0x7000n)
    expect(td.module.vmcsRead(0, 1, VmcsField.GUEST_CR3) ?? 0n).toBe(0n)
    // The trace saw the same calls the report counts.
    expect(td.trace.stats()).toEqual(td.stats())
    const chrome = td.trace.toChromeTrace()
    expect(chrome.traceEvents.some((e) => e.name === 'TDG.VP.WR')).toBe(true)
  })

  it('keeps the context queued when TDG.VP.WR fails, and applies it on a later entry', () => {
    const td = new SimTd({ vps: 2, memory: 8n << 20n })
    performStep(td, 0, ENABLE[0] as GuestAction)
    td.faults.arm({ at: 'TDG.VP.WR', status: 'TDX_OPERAND_BUSY', after: 5 })
    const enable = performStep(td, 0, ENABLE[1] as GuestAction)
    expect(enable.result.status).toBe('Success')
    // The apply failed half-way: VTL1 is enable-called but not Active yet.
    expect(td.engine.shared.vtl1EnableCalled(0)).toBe(true)
    expect(td.engine.vp(0).vtl1).toBeUndefined()
    expect(td.engine.shared.pendingOperation(0, 1)).not.toBe(0)
    // The next entry retries and succeeds; VtlCall then enters VTL1 at the context.
    performStep(td, 0, { kind: 'run' })
    expect(td.engine.vp(0).vtl1).toBeDefined()
    const call = performStep(td, 0, ENABLE[2] as GuestAction)
    expect(call.result.activeVtl).toBe(1)
    expect(td.engine.vp(0).vtls[1].registers.rip).toBe(0x9000n)
  })

  it('zeroes guest memory contents when the module accepts a page again', () => {
    const td = new SimTd({ vps: 1, memory: 8n << 20n })
    const steps = actions(`
  - { vp: 0, write: { gpa: "0x20000", value: "0xff" } }
  - { vp: 0, hypercall: { name: ModifySparseGpaPageHostVisibility, input: { hostVisibility: shared, gpns: ["0x20"] } } }
  - { vp: 0, hypercall: { name: ModifySparseGpaPageHostVisibility, input: { hostVisibility: private, gpns: ["0x20"] } } }
  - { vp: 0, read: { gpa: "0x20000" } }`)
    const results = steps.map((a) => performStep(td, 0, a).result)
    expect(results[0]).toMatchObject({ ok: true })
    expect(results[3]).toMatchObject({ ok: true, value: '0x0' })
  })
})
