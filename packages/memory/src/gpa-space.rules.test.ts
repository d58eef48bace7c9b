import {
  HV_MAP_GPA_PERMISSIONS_ALL,
  HvMapGpaFlags,
  HvStatus,
  VtlError,
  type ProtectionPort,
} from '@vtl/core'
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { GpaSpace } from './gpa-space.js'
import { RecordingSink } from './recording-sink.js'

const { Readable: R, Writable: W, KernelExecutable: KX, UserExecutable: UX } = HvMapGpaFlags
const ALL = HV_MAP_GPA_PERMISSIONS_ALL
const page = (g: number): bigint => BigInt(g) << 12n

/** RAM pages 0–1023 and 2048–3071, MMIO 1024–1279; everything accepted, as after boot. */
function booted(): { space: GpaSpace; sink: RecordingSink } {
  const sink = new RecordingSink()
  const space = new GpaSpace({
    ram: [
      { start: 0n, end: page(1024) },
      { start: page(2048), end: page(3072) },
    ],
    mmio: [{ start: page(1024), end: page(1280) }],
    sink,
  })
  space.acceptPages({ start: 0n, end: page(1024) })
  space.acceptPages({ start: page(2048), end: page(3072) })
  return { space, sink }
}

function expectVtlError(fn: () => unknown, code: string, field?: string): void {
  try {
    fn()
  } catch (error) {
    expect(VtlError.isInstance(error)).toBe(true)
    if (!VtlError.isInstance(error)) return
    expect(error.code).toBe(code)
    if (field !== undefined) expect(error.field).toBe(field)
    return
  }
  expect.unreachable(`expected ${code}`)
}

describe('boot state and default protections (§5.2)', () => {
  it('starts with VTL0 = ALL, VTL1 undefined; accepted pages get VM1 FULL_ACCESS only', () => {
    const { space, sink } = booted()
    expect(space.defaults).toEqual({ vtl0: ALL, vtl1: undefined })
    const s = space.stateOf(page(5))
    expect(s).toMatchObject({ kind: 'ram', accepted: true, shared: false, vtl0: ALL })
    expect(s.vtl1).toBeUndefined()
    expect([s.vm1Attr, s.vm2Attr]).toEqual([0x800f, 0])
    expect(sink.page(5n)).toEqual({ accepted: true, shared: false, vm1: 0x800f, vm2: 0 })
    expect(space.stateOf(page(1100)).kind).toBe('mmio')
    expect(space.stateOf(page(1500)).kind).toBe('none')
  })

  it('EnablePartitionVtl gives every accepted private RAM page VTL1 ALL, and records it', () => {
    const { space } = booted()
    space.setHostVisibility(0, [7n], true)
    expect(space.changeDefaultVtlProtections(1, ALL)).toBe(HvStatus.Success)
    expect(space.defaults.vtl1).toBe(ALL)
    expect(space.stateOf(page(6)).vm2Attr).toBe(0x800f)
    expect(space.stateOf(page(7)).vm2Attr).toBe(0)
    expect(space.stateOf(page(1100)).vm2Attr).toBe(0)
    expect(space.summary().vtl1).toEqual({ 'R W KX UX': 2047 })
  })

  it('a locked accepted page fails the whole call with OperationDenied and changes nothing', () => {
    const { space, sink } = booted()
    space.lock({ start: page(3000), size: 4096n })
    const before = JSON.stringify(space.summary())
    const log = sink.log.length
    expect(space.changeDefaultVtlProtections(0, R | W)).toBe(HvStatus.OperationDenied)
    expect(JSON.stringify(space.summary())).toBe(before)
    expect(sink.log.length).toBe(log)
    expect(space.defaults.vtl0).toBe(ALL)
    space.unlock({ start: page(3000), size: 4096n })
    expect(space.changeDefaultVtlProtections(0, R | W)).toBe(HvStatus.Success)
  })

  it('an overlay page only gets its saved permissions updated, restored on unregister', () => {
    const { space } = booted()
    expect(space.registerOverlay(0, 9n, { check: R | W, perms: R | KX | UX }).status).toBe(0)
    expect(space.changeDefaultVtlProtections(0, R | W)).toBe(HvStatus.Success)
    expect(space.stateOf(page(9)).vtl0).toBe(R | KX | UX)
    expect(space.stateOf(page(10)).vtl0).toBe(R | W)
    space.unregisterOverlay(0, 9n)
    expect(space.stateOf(page(9)).vtl0).toBe(R | W)
  })
})

describe('ModifyVtlProtectionMask on VTL0 (§5.4 step 7, §13.9)', () => {
  it.each([
    ['an MMIO page', 1100n],
    ['a page outside RAM and MMIO', 1500n],
    ['a page beyond the canonical space', 1n << 40n],
  ])('refuses %s with OperationDenied', (_what, gpn) => {
    const { space } = booted()
    expect(space.changeVtlProtections(0, [1n, gpn], R)).toBe(HvStatus.OperationDenied)
    expect(space.stateOf(page(1)).vtl0).toBe(ALL)
  })

  it('refuses a locked, an overlay or a shared page, checking every GPN before applying any', () => {
    const { space } = booted()
    space.lock({ start: page(20), end: page(21) })
    space.registerOverlay(0, 21n)
    space.setHostVisibility(0, [22n], true)
    for (const bad of [20n, 21n, 22n]) {
      expect(space.changeVtlProtections(0, [1n, 2n, bad], R)).toBe(HvStatus.OperationDenied)
      expect(space.stateOf(page(1)).vtl0).toBe(ALL)
    }
  })

  it('a VTL1 overlay does not block VTL0 protections', () => {
    const { space } = booted()
    space.changeDefaultVtlProtections(1, ALL)
    space.registerOverlay(1, 30n)
    expect(space.changeVtlProtections(0, [30n], R)).toBe(HvStatus.Success)
    expect(space.changeVtlProtections(1, [30n], R)).toBe(HvStatus.OperationDenied)
  })

  it('takes GPNs in the guest order, repeats included, and plans merged ranges', () => {
    const { space } = booted()
    const result = space.protectPages(0, [5n, 3n, 4n, 3n, 900n], R)
    expect(result).toMatchObject({ status: HvStatus.Success, processed: 5 })
    expect(result.plan.ops().map((op) => [op.kind, op.gpn, 'level' in op ? op.level : -1])).toEqual(
      [
        ['attr-write', 3n, 0],
        ['attr-write', 4n, 0],
        ['attr-write', 5n, 0],
        ['attr-write', 900n, 0],
      ]
    )
    expect(space.stateOf(page(4)).vm1Attr).toBe(0x8001)
  })
})

describe('ModifyVtlProtectionMask of a single GPN (§5.4 step 7)', () => {
  // Pages 0–63 and 96–127 RAM, 64–95 MMIO; the setup leaves every kind of page among them.
  const setupOp = fc.oneof(
    fc.record({ op: fc.constant('protect' as const), vtl: fc.constantFrom<0 | 1>(0, 1) }),
    fc.record({ op: fc.constant('share' as const), shared: fc.boolean() }),
    fc.record({ op: fc.constant('lock' as const), locked: fc.boolean() }),
    fc.record({ op: fc.constant('overlay' as const), vtl: fc.constantFrom<0 | 1>(0, 1) }),
    fc.record({ op: fc.constant('enableVtl1' as const) })
  )
  const twin = (): GpaSpace => {
    const space = new GpaSpace({
      ram: [
        { start: 0n, end: page(64) },
        { start: page(96), end: page(128) },
      ],
      mmio: [{ start: page(64), end: page(96) }],
      sink: new RecordingSink(),
    })
    space.acceptPages({ start: 0n, end: page(64) })
    space.acceptPages({ start: page(96), end: page(128) })
    return space
  }

  test.prop([
    fc.array(fc.tuple(setupOp, fc.integer({ min: 0, max: 127 }), fc.integer({ min: 0, max: 15 })), {
      maxLength: 30,
    }),
    fc.constantFrom<0 | 1>(0, 1),
    fc.integer({ min: 0, max: 140 }),
    fc.integer({ min: 0, max: 15 }),
    fc.boolean(),
  ])(
    'answers, plans, executes and changes exactly what the GPN-list path does for it',
    (setup, vtl, g, flags, withSink) => {
      // `[g]` takes the single-page path, `[g, g]` the list path (same pages, merged).
      const spaces = [twin(), twin()]
      for (const space of spaces) {
        for (const [o, at, f] of setup) {
          const gpn = BigInt(at)
          const range = { start: page(at), end: page(at + 1) }
          if (o.op === 'protect') space.protectPages(o.vtl, [gpn], f)
          else if (o.op === 'share') space.setHostVisibility(1, [gpn], o.shared)
          else if (o.op === 'overlay') space.registerOverlay(o.vtl, gpn)
          else if (o.op === 'enableVtl1') space.applyDefaultProtections(1, f)
          else if (space.stateOf(range.start).kind === 'ram') {
            if (o.locked) space.lock(range)
            else space.unlock(range)
          }
        }
        if (!withSink) space.useSink(undefined)
      }
      const [single, list] = spaces as [GpaSpace, GpaSpace]
      const a = single.protectPages(vtl, [BigInt(g)], flags)
      const b = list.protectPages(vtl, [BigInt(g), BigInt(g)], flags)
      expect(a.status).toBe(b.status)
      expect(a.processed).toBe(b.status === HvStatus.Success ? 1 : 0)
      expect(a.plan).toStrictEqual(b.plan)
      expect(a.plan.ops()).toStrictEqual(b.plan.ops())
      expect(a.executed).toStrictEqual(b.executed)
      expect(single.stateOf(page(g))).toStrictEqual(list.stateOf(page(g)))
      expect(single.runCount).toBe(list.runCount)
    }
  )

  it.each([
    ['the last canonical page', (1n << 35n) - 1n, HvStatus.Success],
    ['the first page past it (the shared alias)', 1n << 35n, HvStatus.OperationDenied],
    ['a GPN that rounds to 2^53 as a Number', (1n << 53n) + 1n, HvStatus.OperationDenied],
    ['the largest 64-bit GPN', (1n << 64n) - 1n, HvStatus.OperationDenied],
    ['a negative GPN', -1n, HvStatus.OperationDenied],
  ])('at the top of a 48-bit space: %s', (_what, gpn, status) => {
    // RAM up to the shared bit, so a page past the canonical space would read accepted RAM.
    const top = 1n << 47n
    const space = new GpaSpace({ ram: [{ start: top - page(2), end: top }] })
    space.mark({ start: top - page(2), end: top }, { accepted: true, vtl0: ALL })
    expect(space.protectPages(0, [gpn], R).status).toBe(status)
    expect(space.stateOf(top - page(1)).vtl0).toBe(status === HvStatus.Success ? R : ALL)
  })
})

describe('host visibility (§5.6, §13.9)', () => {
  it('VTL0 may share only R+W pages: AccessDenied at the first refused index, earlier pages done', () => {
    const { space } = booted()
    space.changeDefaultVtlProtections(1, ALL)
    space.changeVtlProtections(0, [12n], R)
    const out = space.changeHostVisibility(0, [10n, 11n, 12n, 13n], true)
    expect(out).toEqual({ status: HvStatus.AccessDenied, processed: 2 })
    expect(space.queryHostVisibility([10n, 11n, 12n, 13n])).toEqual({
      status: HvStatus.Success,
      shared: [true, true, false, false],
    })
    // VTL1 is not bound by the rule.
    expect(space.changeHostVisibility(1, [12n], true)).toEqual({ status: 0, processed: 1 })
  })

  it('§13.17: a query stops at the first page that is not RAM, answering the pages before it', () => {
    const { space } = booted()
    expect(space.queryHostVisibility([10n, 11n, 1100n, 12n])).toEqual({
      status: HvStatus.OperationDenied,
      shared: [false, false],
    })
  })

  it('refuses overlay pages (sharing) and locked pages (either way) with OperationDenied', () => {
    const { space } = booted()
    space.registerOverlay(1, 40n)
    space.lock({ start: page(41), size: 4096n })
    expect(space.changeHostVisibility(0, [39n, 40n], true)).toEqual({
      status: HvStatus.OperationDenied,
      processed: 0,
    })
    expect(space.changeHostVisibility(1, [41n], true).status).toBe(HvStatus.OperationDenied)
    expect(space.changeHostVisibility(1, [41n], false).status).toBe(HvStatus.OperationDenied)
    expect(space.changeHostVisibility(1, [1100n], true).status).toBe(HvStatus.OperationDenied)
    expect(space.stateOf(page(39)).shared).toBe(false)
  })

  it('shared → private re-accepts and reapplies VTL0 and VTL1 defaults', () => {
    const { space, sink } = booted()
    space.changeDefaultVtlProtections(1, R | W)
    space.changeVtlProtections(0, [50n], R | W)
    space.changeHostVisibility(0, [50n], true)
    expect(sink.page(50n)).toEqual({ accepted: false, shared: true, vm1: 0, vm2: 0 })
    const result = space.setHostVisibility(0, [50n], false)
    expect(result.plan.ops().map((op) => op.kind)).toEqual([
      'map-gpa',
      'accept',
      'attr-write',
      'attr-write',
    ])
    expect(sink.page(50n)).toEqual({ accepted: true, shared: false, vm1: 0x800f, vm2: 0x8003 })
  })

  it('a shared page cannot be protected; its shared alias reports the same page', () => {
    const { space } = booted()
    space.changeHostVisibility(1, [60n], true)
    expect(space.changeVtlProtections(0, [60n], R)).toBe(HvStatus.OperationDenied)
    const alias = space.stateOf((1n << 47n) | page(60))
    expect(alias).toMatchObject({ gpn: 60n, viaSharedAlias: true, shared: true })
  })

  it('private → shared releases first only with TDX Connect', () => {
    const sink = new RecordingSink()
    const space = new GpaSpace({ ram: [{ start: 0n, end: page(16) }], sink, tdxConnect: true })
    space.acceptPages({ start: 0n, end: page(16) })
    const ops = space.setHostVisibility(1, [3n, 4n], true).plan.ops()
    expect(ops).toEqual([
      { kind: 'release', gpn: 3n, level: 0 },
      { kind: 'release', gpn: 4n, level: 0 },
      { kind: 'map-gpa', gpn: 3n, pages: 2n, shared: true },
    ])
  })
})

describe('overlays (register_overlay_page)', () => {
  it('checks permissions, remaps (hypercall page R+KX+UX) and counts references', () => {
    const { space } = booted()
    space.changeVtlProtections(0, [70n], R)
    expect(space.registerOverlay(0, 70n, { check: R | W }).status).toBe(HvStatus.OperationDenied)
    expect(space.registerOverlay(0, 1100n).status).toBe(HvStatus.OperationDenied)
    const first = space.registerOverlay(0, 71n, { check: R | W, perms: R | KX | UX })
    expect(first.plan.ops()).toEqual([
      { kind: 'attr-write', gpn: 71n, level: 0, vtl: 0, attr: 0x800d, mask: 0xf },
    ])
    // A second registration only counts, and must stay within the overlay's permissions.
    expect(space.registerOverlay(0, 71n, { check: R | W }).status).toBe(HvStatus.OperationDenied)
    expect(space.registerOverlay(0, 71n, { check: R }).plan.isEmpty).toBe(true)
    expect(space.overlayCount(0, 71n)).toBe(2)
    expect(space.unregisterOverlay(0, 71n).plan.isEmpty).toBe(true)
    expect(space.stateOf(page(71)).vtl0).toBe(R | KX | UX)
    space.unregisterOverlay(0, 71n)
    expect(space.stateOf(page(71))).toMatchObject({ vtl0: ALL, overlay: { vtl0: false } })
    expect(space.unregisterOverlay(0, 71n).status).toBe(HvStatus.OperationDenied)
  })

  it('tells the permissions the last unregister gives back, which a restore can set', () => {
    const { space, sink } = booted()
    expect(space.overlaySavedPermissions(0, 72n)).toBeUndefined()
    space.registerOverlay(0, 72n, { check: R | W, perms: R | KX | UX })
    expect(space.overlaySavedPermissions(0, 72n)).toBe(ALL)
    expect(space.overlaySavedPermissions(1, 72n)).toBeUndefined()
    expect(space.overlaySavedPermissions(0, 1n << 40n)).toBeUndefined()
    space.changeDefaultVtlProtections(0, R | W)
    expect(space.overlaySavedPermissions(0, 72n)).toBe(R | W)

    // A restored TD: the page already has its overlay permissions; `saved` is what unmapping gives.
    const log = sink.log.length
    space.changeVtlProtections(0, [73n], R | KX | UX)
    expect(space.registerOverlay(0, 73n, { check: 0, saved: R | W | KX }).plan.isEmpty).toBe(true)
    expect(space.overlaySavedPermissions(0, 73n)).toBe(R | W | KX)
    // Only the first registration records it.
    space.registerOverlay(0, 73n, { check: 0, saved: R })
    expect(space.overlaySavedPermissions(0, 73n)).toBe(R | W | KX)
    expect(sink.log.length).toBe(log + 1)
    space.unregisterOverlay(0, 73n)
    space.unregisterOverlay(0, 73n)
    expect(space.stateOf(page(73)).vtl0).toBe(R | W | KX)

    space.registerOverlay(1, 74n, { check: 0, saved: null })
    expect(space.overlaySavedPermissions(1, 74n)).toBeNull()
    space.unregisterOverlay(1, 74n)
    expect(space.stateOf(page(74)).vtl1).toBeUndefined()
  })
})

describe('bad input', () => {
  it.each([
    [{ start: 1n, end: page(4) }, 'E_UNALIGNED', 'ram[0].start'],
    [{ start: page(4), end: page(2) }, 'E_RANGE_REVERSED', 'ram[0].end'],
    [{ start: page(4), end: page(4) }, 'E_RANGE_EMPTY', 'ram[0]'],
    [{ start: page(4), size: 1n << 64n }, 'E_RANGE_OVERFLOW', 'ram[0].size'],
    [{ start: 0n, end: 1n << 49n }, 'E_BEYOND_GPA_WIDTH', 'ram[0].end'],
    [{ start: 1n << 47n, end: (1n << 47n) + page(1) }, 'E_FIELD_RANGE', 'ram[0]'],
  ])('rejects the layout range %o with %s', (range, code, field) => {
    expectVtlError(() => new GpaSpace({ ram: [range] }), code, field)
  })

  it('rejects overlapping layout ranges and a bad width', () => {
    expectVtlError(
      () =>
        new GpaSpace({
          ram: [{ start: 0n, end: page(8) }],
          mmio: [{ start: page(7), end: page(9) }],
        }),
      'E_OVERLAP',
      'mmio[0]'
    )
    expectVtlError(() => new GpaSpace({ ram: [], gpaWidth: 50 as 48 }), 'E_FIELD_RANGE')
  })

  it('range operations across a hole or into accepted pages throw and change nothing', () => {
    const { space, sink } = booted()
    const before = JSON.stringify(space.summary())
    const log = sink.log.length
    expectVtlError(
      () => space.protectRange(0, { start: page(1000), end: page(1100) }, R),
      'E_NOT_RAM',
      'range'
    )
    expectVtlError(() => {
      space.lock({ start: page(1000), end: page(2100) })
    }, 'E_NOT_RAM')
    expectVtlError(() => space.acceptPages({ start: 0n, end: page(2) }), 'E_ALREADY_ACCEPTED')
    expectVtlError(() => space.stateOf(1n << 48n), 'E_BEYOND_GPA_WIDTH', 'gpa')
    expect(JSON.stringify(space.summary())).toBe(before)
    expect(sink.log.length).toBe(log)
  })

  it('is a ProtectionPort', () => {
    const port: ProtectionPort = booted().space
    expect(port.queryHostVisibility([1n]).shared).toEqual([false])
  })
})

describe('queries', () => {
  it('lists runs with a cursor and a limit, and sums states', () => {
    const { space } = booted()
    space.changeVtlProtections(0, [2n, 4n], R)
    const range = { start: 0n, end: page(8) }
    const first = space.runs(range, { limit: 3 })
    expect(first.runs.map((r) => [r.start, r.end, r.state.vtl0])).toEqual([
      [0n, page(2), ALL],
      [page(2), page(3), R],
      [page(3), page(4), ALL],
    ])
    expect(first.next).toBe(page(4))
    const rest = space.runs(range, { cursor: page(4), limit: 3 })
    expect(rest.runs.map((r) => [r.start, r.end])).toEqual([
      [page(4), page(5)],
      [page(5), page(8)],
    ])
    expect(rest.next).toBeUndefined()
    const sum = space.summary()
    expect(sum.pages).toEqual({
      ram: 2048,
      mmio: 256,
      private: 2048,
      shared: 0,
      accepted: 2048,
      locked: 0,
      overlay: 0,
    })
    expect(sum.vtl0).toEqual({ 'R W KX UX': 2046, R: 2 })
    expect(sum.vtl1).toEqual({ none: 2048 })
  })

  it('mark keeps pages consistent: accepted means private, unaccepted means no attributes', () => {
    const { space } = booted()
    space.changeHostVisibility(1, [3n], true)
    space.mark({ start: 0n, end: page(8) }, { accepted: true })
    expect(space.stateOf(page(3))).toMatchObject({ accepted: true, shared: false })
    space.mark({ start: 0n, end: page(8) }, { accepted: false })
    expect(space.stateOf(page(4))).toMatchObject({ accepted: false, vm1Attr: 0, vm2Attr: 0 })
    expectVtlError(
      () => {
        space.mark({ start: 0n, end: page(8) }, { shared: true, vtl0: ALL })
      },
      'E_INVALID_VALUE',
      'state'
    )
  })

  it('marks a 1 TiB guest in one call without a plan and keeps it one run', () => {
    const space = new GpaSpace({ ram: [{ start: 0n, end: 1n << 40n }] })
    space.mark({ start: 0n, end: 1n << 40n }, { accepted: true, vtl0: ALL, vtl1: ALL })
    expect(space.runCount).toBe(2)
    expect(space.stateOf((1n << 40n) - 4096n)).toMatchObject({ accepted: true, vtl1: ALL })
  })
})

describe('GPA width 52', () => {
  it('uses bit 51 as the shared bit and 2^39 canonical pages', () => {
    const space = new GpaSpace({ gpaWidth: 52, ram: [{ start: 1n << 48n, size: 1n << 21n }] })
    expect(space.pageLimit).toBe(2 ** 39)
    space.acceptPages({ start: (1n << 51n) | (1n << 48n), size: 1n << 21n })
    expect(space.stateOf((1n << 51n) | (1n << 48n))).toMatchObject({
      gpn: 1n << 36n,
      viaSharedAlias: true,
      accepted: true,
    })
    expectVtlError(() => space.stateOf(1n << 52n), 'E_BEYOND_GPA_WIDTH')
  })
})
