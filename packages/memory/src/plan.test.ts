import {
  attrWriteOperands,
  encodeGpaOperand,
  HV_MAP_GPA_PERMISSIONS_ALL,
  HvStatus,
  type PageLevel,
} from '@vtl/core'
import { describe, expect, it } from 'vitest'
import { executePlan } from './executor.js'
import { GpaSpace } from './gpa-space.js'
import { alignedChunkCount } from './aligned-chunks.js'
import { Plan, type PlanOp } from './plan.js'
import { tdcallRegisters } from './tdcall-registers.js'
import { recordedMismatches, RecordingSink } from './recording-sink.js'
import {
  makeTdxStatus,
  TDX_OPERAND_BUSY,
  TDX_PAGE_ALREADY_ACCEPTED,
  TDX_PAGE_SIZE_MISMATCH,
} from './tdx-status.js'

const ALL = HV_MAP_GPA_PERMISSIONS_ALL
const GIB = 1n << 30n
const MIB2 = 1n << 21n
const PAGES_1G = 262144
const shape = (ops: PlanOp[]): [string, bigint, PageLevel | -1][] =>
  ops.map((op) => [op.kind, op.gpn, 'level' in op ? op.level : -1])

function accepted(bytes: bigint, sink?: RecordingSink): GpaSpace {
  const space = new GpaSpace({ ram: [{ start: 0n, end: bytes }], ...(sink ? { sink } : {}) })
  space.mark({ start: 0n, end: bytes }, { accepted: true, vtl0: ALL })
  return space
}

describe('plan shapes', () => {
  it('enabling VTL1 on a 64 GiB 1 GiB-aligned guest is 64 ATTR.WR at 1 GiB, OpenHCL operands', () => {
    const space = accepted(64n * GIB)
    const plan = space.planDefaultProtections(1, ALL)
    expect(plan.opCount).toBe(64)
    const ops = plan.ops()
    expect(ops.every((op) => op.kind === 'attr-write' && op.level === 2 && op.vtl === 1)).toBe(true)
    const { rdx, r8 } = attrWriteOperands(1, ALL)
    const regs = tdcallRegisters(ops[1] ?? ops[0] ?? { kind: 'accept', gpn: 0n, level: 0 })
    expect(regs).toMatchObject({ rax: 24n, rdx, r8 })
    expect(regs.rcx).toBe(encodeGpaOperand({ level: 2, gpn: BigInt(PAGES_1G) }))
    // The same change at 4 KiB only, and nothing was changed by planning.
    expect(space.planDefaultProtections(1, ALL, 0).opCount).toBe(16_777_216)
    expect(space.defaults.vtl1).toBeUndefined()
    expect(space.stateOf(0n).vtl1).toBeUndefined()
  })

  it('enabling VTL1 on 1 TiB is 1024 ops, run on a counting sink without touching pages', () => {
    const space = accepted(1n << 40n)
    let calls = 0
    space.useSink({ execute: () => (calls++, 0n) })
    const result = space.applyDefaultProtections(1, ALL)
    expect(result.plan.opCount).toBe(1024)
    expect(calls).toBe(1024)
    expect(space.runCount).toBe(2)
  })

  it('an unaligned range splits into 4K head, 2M, 1G core, 2M and 4K tail', () => {
    const space = accepted(4n * GIB)
    const start = GIB - MIB2 - 4096n
    const end = 2n * GIB + MIB2 + 4096n
    const ops = space.protectRange(0, { start, end }, 1).plan.ops()
    const g = (b: bigint): bigint => b >> 12n
    expect(shape(ops)).toEqual([
      ['attr-write', g(start), 0],
      ['attr-write', g(GIB - MIB2), 1],
      ['attr-write', g(GIB), 2],
      ['attr-write', g(2n * GIB), 1],
      ['attr-write', g(2n * GIB + MIB2), 0],
    ])
    expect(alignedChunkCount(Number(g(start)), Number(g(end)), 2)).toBe(5)
  })

  it('accepting orders ACCEPT (2 MiB at most, as the module takes) before the attributes', () => {
    const space = new GpaSpace({ ram: [{ start: 0n, end: 2n * GIB + MIB2 }] })
    const plan = space.acceptPages({ start: 0n, end: 2n * GIB + MIB2 }).plan
    expect(plan.count('accept')).toBe(1025)
    const ops = plan.ops().filter((op, i) => op.kind !== 'accept' || i === 0 || i === 1024)
    expect(shape(ops)).toEqual([
      ['accept', 0n, 1],
      ['accept', BigInt(2 * PAGES_1G), 1],
      ['attr-write', 0n, 2],
      ['attr-write', BigInt(PAGES_1G), 2],
      ['attr-write', BigInt(2 * PAGES_1G), 1],
    ])
  })

  it('one step covers neighbours that need the same write even when other state differs', () => {
    const space = accepted(GIB)
    space.changeVtlProtections(0, [7n, 9n], 1)
    expect(space.runCount).toBe(6)
    expect(space.planDefaultProtections(1, ALL).opCount).toBe(1)
  })

  it('undoing a never-mapped VTL1 slot writes VALID with no permissions (a 0 slot is skipped)', () => {
    const regs = tdcallRegisters({
      kind: 'attr-write',
      gpn: 512n,
      level: 1,
      vtl: 1,
      attr: 0,
      mask: 0xf,
    })
    expect(regs.rcx).toBe((512n << 12n) | 1n)
    expect(regs.rdx).toBe(0x0000_8000_0000_0000n)
    expect(regs.r8).toBe(0x0000_000f_0000_0000n)
  })

  it('MapGPA carries the canonical range and, for shared, the shared-alias GPA', () => {
    const regs = tdcallRegisters({ kind: 'map-gpa', gpn: 16n, pages: 4n, shared: true })
    expect(regs).toMatchObject({
      rax: 0n,
      r11: 0x10001n,
      r12: (1n << 47n) | 0x10000n,
      r13: 0x4000n,
    })
    expect(tdcallRegisters({ kind: 'map-gpa', gpn: 16n, pages: 4n, shared: false }, 52).r12).toBe(
      0x10000n
    )
  })
})

describe('executor', () => {
  const attrPlan = (start: number, end: number): Plan =>
    new Plan([{ kind: 'attr-write', start, end, vtl: 1, attr: 0x800f, shared: false }])

  function acceptedSink(mappedLevel: (gpn: bigint) => PageLevel, pages = PAGES_1G): RecordingSink {
    const initial = Array.from(
      { length: pages },
      (_, g) => [BigInt(g), { accepted: true, shared: false, vm1: 0x800f, vm2: 0 }] as const
    )
    return new RecordingSink({ initial, mappedLevel })
  }

  it('retries a size mismatch 1 GiB → 2 MiB → 4 KiB', { timeout: 30_000 }, () => {
    // The first 2 MiB is mapped at 4 KiB, the rest at 2 MiB.
    const sink = acceptedSink((gpn) => (gpn < 512n ? 0 : 1))
    const result = executePlan(attrPlan(0, PAGES_1G), sink)
    expect(result.ok).toBe(true)
    const log = sink.log.map((e) => [e.op.gpn, 'level' in e.op ? e.op.level : -1, e.status])
    const mismatch = makeTdxStatus(TDX_PAGE_SIZE_MISMATCH)
    expect(log.slice(0, 3)).toEqual([
      [0n, 2, mismatch],
      [0n, 1, mismatch],
      [0n, 0, 0n],
    ])
    expect(log[513]).toEqual([511n, 0, 0n])
    expect(log[514]).toEqual([512n, 1, 0n])
    expect(log.length).toBe(2 + 512 + 511)
    expect(result.executed.length).toBe(512 + 511)
    expect(sink.page(262143n).vm2).toBe(0x800f)
  })

  it('retries OPERAND_BUSY a bounded number of times, then fails', () => {
    const busy = makeTdxStatus(TDX_OPERAND_BUSY)
    let left = 2
    const flaky = acceptedSink(() => 2, 1)
    const sink = { execute: (op: PlanOp) => (left-- > 0 ? busy : flaky.execute(op)) }
    expect(executePlan(attrPlan(0, 1), sink, { busyRetries: 2 }).ok).toBe(true)
    left = 2
    const strict = executePlan(attrPlan(0, 1), sink, { busyRetries: 1 })
    expect(strict.ok).toBe(false)
    expect(strict.failure?.status).toBe(busy)
    expect(strict.attempts).toBe(2)
  })

  it('treats PAGE_ALREADY_ACCEPTED as a failure (the map and the hardware disagree)', () => {
    const sink = new RecordingSink({
      initial: [[0n, { accepted: true, shared: false, vm1: 0, vm2: 0 }]],
    })
    const plan = new Plan([{ kind: 'accept', start: 0, end: 1, vtl: 0, attr: 0, shared: false }])
    const result = executePlan(plan, sink)
    expect(result.ok).toBe(false)
    expect(result.failure?.status).toBe(makeTdxStatus(TDX_PAGE_ALREADY_ACCEPTED))
  })

  it('undoes a half-done shared → private change with the compensating plan', () => {
    const fault = { armed: false }
    const sink = new RecordingSink({
      // Fail the VTL1 attribute write, the last op of the shared → private plan.
      fail: (op) =>
        fault.armed && op.kind === 'attr-write' && op.vtl === 1 ? 1n << 63n : undefined,
    })
    const space = new GpaSpace({ ram: [{ start: 0n, end: 1n << 24n }], sink })
    space.acceptPages({ start: 0n, end: 1n << 24n })
    space.changeDefaultVtlProtections(1, ALL)
    space.changeHostVisibility(1, [5n], true)
    fault.armed = true
    const result = space.setHostVisibility(1, [5n], false)
    expect(result.status).toBe(HvStatus.OperationFailed)
    expect(result.failure?.op).toMatchObject({ kind: 'attr-write', vtl: 1 })
    expect(result.failure?.undo.ops()).toEqual([
      { kind: 'map-gpa', gpn: 5n, pages: 1n, shared: true },
    ])
    expect(sink.page(5n)).toEqual({ accepted: false, shared: true, vm1: 0, vm2: 0 })
    expect(space.stateOf(5n << 12n)).toMatchObject({ shared: true, accepted: false })
  })
})

describe('recording sink against the map', () => {
  it('seeds from a marked space and finds no mismatch after plans, one after tampering', () => {
    const space = new GpaSpace({ ram: [{ start: 0n, end: 4n << 20n }] })
    space.mark({ start: 0n, end: 4n << 20n }, { accepted: true, vtl0: ALL })
    const sink = RecordingSink.fromSpace(space, 0n, 1024n, { mappedLevel: () => 0 })
    space.useSink(sink)
    expect(space.applyDefaultProtections(1, ALL).status).toBe(HvStatus.Success)
    space.changeHostVisibility(1, [3n, 700n], true)
    space.changeVtlProtections(0, [9n], 1)
    expect(recordedMismatches(space, sink, 0n, 1024n)).toEqual([])
    // Size mismatches were retried down to 4 KiB.
    expect(sink.log.filter((e) => e.status !== 0n).length).toBeGreaterThan(0)
    sink.pages.set(5n, { accepted: true, shared: false, vm1: 0x8001, vm2: 0x800f })
    expect(recordedMismatches(space, sink, 0n, 1024n)).toHaveLength(1)
  })
})
