import { HV_MAP_GPA_PERMISSIONS_ALL as ALL, attrWriteOperands, HvMapGpaFlags } from '@vtl/core'
import { expect, it } from 'vitest'
import { GpaSpace, tdcallRegisters, type PlanSink } from './index.js'

it('runs the README example as written', () => {
  const GiB = 1n << 30n
  const kinds: string[] = []
  const sink: PlanSink = { execute: (op) => (kinds.push(op.kind), 0n) }
  const space = new GpaSpace({
    ram: [{ start: 0n, end: 2n * GiB }],
    mmio: [{ start: 3n * GiB, end: 4n * GiB }],
    sink,
  })
  space.acceptPages({ start: 0n, end: 2n * GiB })
  const enable = space.applyDefaultProtections(1, ALL)
  expect(enable.plan.opCount).toBe(2)
  expect(kinds).toEqual([
    'accept',
    'accept',
    'attr-write',
    'attr-write',
    'attr-write',
    'attr-write',
  ])
  const { Readable: R } = HvMapGpaFlags
  const result = space.protectPages(0, [0x100n, 0x101n], R)
  const ops = result.plan.ops()
  expect(ops[0]).toEqual({
    kind: 'attr-write',
    gpn: 256n,
    level: 0,
    vtl: 0,
    attr: 0x8001,
    mask: 0xf,
  })
  expect(ops.length).toBe(2)
  const op = ops[0] ?? { kind: 'accept', gpn: 0n, level: 0 }
  expect(tdcallRegisters(op)).toMatchObject(attrWriteOperands(0, R))
  expect(space.stateOf(0x100_000n)).toMatchObject({
    kind: 'ram',
    accepted: true,
    vtl0: 1,
    vtl1: 15,
  })
  expect(space.changeHostVisibility(0, [0x100n], true)).toEqual({ status: 6, processed: 0 })
})
