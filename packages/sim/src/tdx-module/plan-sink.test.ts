import { describe, expect, it } from 'vitest'
import { GpaSpace, Plan, executePlan, type MapGpaOp } from '@vtl/memory'
import { HvStatus } from '@vtl/core'
import { SoftwareTdxModule } from './software-tdx-module.js'
import { tdxModulePlanSink } from './plan-sink.js'
import type { PageAttrView } from './types.js'

const MiB = 1n << 20n

function runs(m: SoftwareTdxModule, end: number): [number, number, PageAttrView][] {
  const out: [number, number, PageAttrView][] = []
  m.forEachAttrRun(0, end, (s, e, a) => out.push([s, e, a]))
  return out
}

describe('tdxModulePlanSink with @vtl/memory', () => {
  it('VTL1 default protections: 2M ATTR.WR over 4K-accepted pages mismatches, then 4K succeeds', () => {
    // 8 MiB of RAM; the first 2 MiB was accepted page by page (4 KiB leaves), the rest at 2 MiB.
    const m = new SoftwareTdxModule({
      vps: 1,
      ram: [
        { gpn: 0, pages: 512, level: 0 },
        { gpn: 512, pages: 1536, level: 1 },
      ],
    })
    const space = new GpaSpace({ ram: [{ start: 0n, size: 8n * MiB }] })
    space.mark({ start: 0n, size: 8n * MiB }, { accepted: true, vtl0: 0xf })
    space.useSink(tdxModulePlanSink(m))

    const result = space.applyDefaultProtections(1, 0xf)
    expect(result.status).toBe(HvStatus.Success)
    // Four 2 MiB ops planned; the first came back PAGE_SIZE_MISMATCH and ran as 512 × 4 KiB.
    expect(result.plan.opCount).toBe(4)
    expect(result.executed.length).toBe(515)
    expect(result.executed[0]).toMatchObject({ kind: 'attr-write', gpn: 0n, level: 0 })
    expect(result.executed[512]).toMatchObject({ kind: 'attr-write', gpn: 512n, level: 1 })

    const full = { accepted: true, pending: false, vm1: 0x800f, vm2: 0x800f, vm3: 0 }
    expect(runs(m, 2048)).toEqual([
      [0, 512, { ...full, level: 0 }],
      [512, 2048, { ...full, level: 1 }],
    ])
    // Page by page, too: every page of the guest has VTL0 and VTL1 full access.
    for (let g = 0; g < 2048; g++)
      expect(m.pageAttr(g)).toEqual({ ...full, level: g < 512 ? 0 : 1 })
    expect(m.pageAttr(2048).accepted).toBe(false)
  })

  it('returns the module status of a failing op and stops the plan', () => {
    const m = new SoftwareTdxModule({ vps: 1, ram: [{ gpn: 0, pages: 512 }] })
    // Pages 512.. are not mapped: ATTR.WR there cannot walk the Secure EPT.
    const plan = new Plan(
      [{ kind: 'attr-write', start: 0, end: 1024, vtl: 1, attr: 0x800f, shared: false }],
      1
    )
    const run = executePlan(plan, tdxModulePlanSink(m))
    expect(run.ok).toBe(false)
    expect(run.failure?.status).toBe(0xc000_0b00_0000_0001n)
    expect(m.pageAttr(0).vm2).toBe(0x800f)
  })

  it('accept plans run as TDG.MEM.PAGE.ACCEPT (2 MiB max: the module refuses 1 GiB)', () => {
    const m = new SoftwareTdxModule({ vps: 1 })
    const plan = new Plan(
      [{ kind: 'accept', start: 0, end: 262144 + 3, vtl: 0, attr: 0, shared: false }],
      1
    )
    const run = executePlan(plan, tdxModulePlanSink(m))
    expect(run.ok).toBe(true)
    expect(run.executed.length).toBe(512 + 3)
    expect(m.pageAttr(262144 + 2)).toMatchObject({ accepted: true, level: 0 })
    const oneGiB = new Plan(
      [{ kind: 'accept', start: 0, end: 262144, vtl: 0, attr: 0, shared: false }],
      2
    )
    const refused = executePlan(oneGiB, tdxModulePlanSink(new SoftwareTdxModule({ vps: 1 })))
    expect(refused.failure?.status).toBe(0xc000_0100_0000_0001n)
  })

  it('MapGPA goes to the host-visibility callback, or to the module host model by default', () => {
    const plan = new Plan([{ kind: 'map-gpa', start: 16, end: 20, vtl: 0, attr: 0, shared: true }])
    const told: MapGpaOp[] = []
    const m1 = new SoftwareTdxModule({ vps: 1, ram: [{ gpn: 0, pages: 512 }], ramLevel: 0 })
    executePlan(
      plan,
      tdxModulePlanSink(m1, 0, (op) => (told.push(op), 0n))
    )
    expect(told).toEqual([{ kind: 'map-gpa', gpn: 16n, pages: 4n, shared: true }])
    expect(m1.pageAttr(16).accepted).toBe(true)

    const m2 = new SoftwareTdxModule({ vps: 1, ram: [{ gpn: 0, pages: 512 }], ramLevel: 0 })
    expect(executePlan(plan, tdxModulePlanSink(m2)).ok).toBe(true)
    expect(runs(m2, 32).map(([s, e, a]) => [s, e, a.accepted])).toEqual([
      [0, 16, true],
      [16, 20, false],
      [20, 32, true],
    ])
  })
})
