import { fc, test } from '@fast-check/vitest'
import { HvStatus, VtlError, type GuestVtl } from '@vtl/core'
import { expect } from 'vitest'
import { GpaSpace, type MutationResult } from './gpa-space.js'
import { RecordingSink } from './recording-sink.js'
import { makeTdxStatus, TDX_OPERAND_BUSY, TDX_OPERAND_INVALID } from './tdx-status.js'
import { attrOf, PageOracle } from './test/page-oracle.js'

// Pages 0–599 and 640–1099 are RAM, 600–639 MMIO, the rest is not RAM; 1200 pages are compared.
const RAM: [number, number][] = [
  [0, 600],
  [640, 1100],
]
const MMIO: [number, number][] = [[600, 640]]
const PAGES = 1200

const vtl = fc.constantFrom<GuestVtl>(0, 1)
const flags = fc.integer({ min: 0, max: 15 })
const page = fc.integer({ min: 0, max: PAGES - 1 })
const gpnList = fc.array(fc.oneof(page, fc.integer({ min: 500, max: 530 })), { maxLength: 6 })
const range = fc.oneof(
  fc
    .tuple(page, fc.integer({ min: 1, max: 700 }))
    .map(([s, n]) => [s, Math.min(s + n, PAGES + 50)] as const),
  fc.constantFrom([0, 600] as const, [640, 1100] as const, [0, 512] as const, [512, 600] as const)
)
// Small ranges around the pages the GPN lists favour, so locks meet protections often.
const nearRange = fc
  .tuple(fc.integer({ min: 490, max: 540 }), fc.integer({ min: 1, max: 20 }))
  .map(([s, n]) => [s, s + n] as const)

const operation = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('accept' as const), range }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('default' as const), vtl, flags }) },
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('protect' as const), vtl, gpns: gpnList, flags }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('protectRange' as const),
      vtl,
      range: fc.oneof(range, nearRange),
      flags,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('visibility' as const),
      caller: vtl,
      gpns: gpnList,
      shared: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('lock' as const),
      range: fc.oneof(range, nearRange),
      locked: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('overlay' as const),
      vtl,
      gpn: fc.integer({ min: 500, max: 530 }),
      check: fc.constantFrom(0, 1, 3),
      perms: fc.option(flags, { nil: undefined }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('unoverlay' as const),
      vtl,
      gpn: fc.integer({ min: 500, max: 530 }),
    }),
  }
)
type Operation = typeof operation extends fc.Arbitrary<infer T> ? T : never

interface Outcome {
  status?: number
  processed?: number
  /** The VtlError code when the typed call threw. */
  code?: string
}

function catching(fn: () => MutationResult | undefined): Outcome {
  try {
    const r = fn()
    return r === undefined ? {} : { status: r.status, processed: r.processed }
  } catch (error) {
    if (VtlError.isInstance(error)) return { code: error.code }
    throw error
  }
}

const bytes = (p: number): bigint => BigInt(p) << 12n

function runSpace(space: GpaSpace, o: Operation): Outcome {
  switch (o.op) {
    case 'accept':
      return catching(() => space.acceptPages({ start: bytes(o.range[0]), end: bytes(o.range[1]) }))
    case 'default':
      return catching(() => space.applyDefaultProtections(o.vtl, o.flags))
    case 'protect':
      return catching(() => space.protectPages(o.vtl, o.gpns.map(BigInt), o.flags))
    case 'protectRange':
      return catching(() =>
        space.protectRange(o.vtl, { start: bytes(o.range[0]), end: bytes(o.range[1]) }, o.flags)
      )
    case 'visibility':
      return catching(() => space.setHostVisibility(o.caller, o.gpns.map(BigInt), o.shared))
    case 'lock':
      return catching(() => {
        const r = { start: bytes(o.range[0]), end: bytes(o.range[1]) }
        if (o.locked) space.lock(r)
        else space.unlock(r)
        return undefined
      })
    case 'overlay':
      return catching(() =>
        space.registerOverlay(
          o.vtl,
          BigInt(o.gpn),
          o.perms === undefined ? { check: o.check } : { check: o.check, perms: o.perms }
        )
      )
    case 'unoverlay':
      return catching(() => space.unregisterOverlay(o.vtl, BigInt(o.gpn)))
  }
}

/** The oracle's outcome; `processed` only where the rules define it. */
function runOracle(oracle: PageOracle, o: Operation): Outcome {
  const status = (n: number): Outcome => ({ status: n })
  const thrown = (code: string | undefined, ok: Outcome): Outcome =>
    code === undefined ? ok : { code }
  switch (o.op) {
    case 'accept':
      return thrown(oracle.accept(o.range[0], o.range[1]), status(0))
    case 'default':
      return status(oracle.setDefault(o.vtl, o.flags))
    case 'protect':
      return status(oracle.protect(o.vtl, o.gpns, o.flags))
    case 'protectRange': {
      const s = o.range[0]
      const e = o.range[1]
      for (let g = s; g < e; g++) if (oracle.get(g).kind !== 'ram') return { code: 'E_NOT_RAM' }
      const pages = Array.from({ length: e - s }, (_, k) => s + k)
      const result = oracle.protect(o.vtl, pages, o.flags)
      return { status: result, processed: result === 0 ? e - s : 0 }
    }
    case 'visibility':
      return oracle.visibility(o.caller, o.gpns, o.shared)
    case 'lock':
      return thrown(oracle.lock(o.range[0], o.range[1], o.locked), {})
    case 'overlay':
      return status(oracle.registerOverlay(o.vtl, o.gpn, o.check, o.perms))
    case 'unoverlay':
      return status(oracle.unregisterOverlay(o.vtl, o.gpn))
  }
}

function agree(got: Outcome, want: Outcome): void {
  expect(got.code).toBe(want.code)
  expect(got.status).toBe(want.status)
  if (want.processed !== undefined) expect(got.processed).toBe(want.processed)
}

/** One line per page, so a mismatch shows the page and a whole comparison is one assertion. */
function compare(space: GpaSpace, oracle: PageOracle, sink: RecordingSink): void {
  const bit = (b: boolean): string => (b ? '1' : '0')
  const map: string[] = []
  const naive: string[] = []
  const mapHw: string[] = []
  const hw: string[] = []
  for (let g = 0; g < PAGES; g++) {
    const w = oracle.get(g)
    const s = space.stateOf(bytes(g))
    map.push(
      `${g} ${s.kind} acc${bit(s.accepted)} sh${bit(s.shared)} lk${bit(s.locked)} ` +
        `p${String(s.vtl0)}/${String(s.vtl1)} ov${bit(s.overlay.vtl0)}${bit(s.overlay.vtl1)}`
    )
    naive.push(
      `${g} ${w.kind} acc${bit(w.accepted)} sh${bit(w.shared)} lk${bit(w.locked)} ` +
        `p${String(w.perms[0])}/${String(w.perms[1])} ` +
        `ov${bit(w.overlays[0] > 0)}${bit(w.overlays[1] > 0)}`
    )
    // The hardware (what the executed plans did) holds exactly what the map claims.
    const h = sink.page(BigInt(g))
    hw.push(
      `${g} acc${bit(h.accepted)} sh${bit(h.shared)} ${h.vm1.toString(16)}/${h.vm2.toString(16)}`
    )
    mapHw.push(
      `${g} acc${bit(s.accepted)} sh${bit(s.shared)} ` +
        `${attrOf(s.vtl0).toString(16)}/${attrOf(s.vtl1).toString(16)}`
    )
  }
  expect(map).toEqual(naive)
  expect(hw).toEqual(mapHw)
}

/** All RAM accepted, as after boot. */
const BOOT: Operation[] = [
  { op: 'accept', range: [0, 600] },
  { op: 'accept', range: [640, 1100] },
]

function newSpace(sink: RecordingSink, busyRetries?: number, tdxConnect = false): GpaSpace {
  return new GpaSpace({
    ram: RAM.map(([s, e]) => ({ start: bytes(s), end: bytes(e) })),
    mmio: MMIO.map(([s, e]) => ({ start: bytes(s), end: bytes(e) })),
    sink,
    tdxConnect,
    ...(busyRetries === undefined ? {} : { busyRetries }),
  })
}

test.prop(
  [
    fc.array(operation, { minLength: 1, maxLength: 25 }),
    fc.boolean(),
    fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined }),
    fc.constantFrom(TDX_OPERAND_INVALID, TDX_OPERAND_BUSY),
    fc.integer({ min: 1, max: 3 }),
    fc.boolean(),
    fc.boolean(),
  ],
  { numRuns: 80 }
)(
  'interval map, naive oracle and recorded hardware agree after every step, sink failures included',
  (steps, smallMappings, failAt, failCode, busyFailures, booted, tdxConnect) => {
    const ops = booted ? [...BOOT, ...steps] : steps
    // BUSY is injected `busyFailures` times in a row: 3 exhausts the executor's 2 retries.
    const fault = {
      armed: failAt !== undefined,
      fired: false,
      remaining: failCode === TDX_OPERAND_BUSY ? busyFailures : 1,
    }
    const sink = new RecordingSink({
      // Some RAM is mapped at 4 KiB only, so 2 MiB ops there take the size-mismatch retry.
      mappedLevel: (gpn) => (smallMappings && gpn >= 512n && gpn < 1024n ? 0 : 2),
      fail: (op, index) => {
        if (!fault.armed || failAt === undefined || index < failAt) return undefined
        fault.fired = true
        fault.remaining--
        // MapGPA is never retried, so one injected failure is all it takes there.
        if (fault.remaining === 0 || op.kind === 'map-gpa') fault.armed = false
        return makeTdxStatus(failCode)
      },
    })
    const space = newSpace(sink, 2, tdxConnect)
    let oracle = new PageOracle(RAM, MMIO)
    for (const o of ops) {
      Object.assign(fault, { fired: false })
      const trial = oracle.clone()
      const got = runSpace(space, o)
      const want = runOracle(trial, o)
      if (fault.fired && got.status === HvStatus.OperationFailed) {
        // The injected fault stopped the step: nothing may have changed, map or hardware.
        expect(got.processed).toBe(0)
      } else {
        agree(got, want)
        oracle = trial
      }
      compare(space, oracle, sink)
    }
  },
  60_000
)

test.prop([fc.array(operation, { minLength: 1, maxLength: 15 })], { numRuns: 25 })(
  'every step whose plan is not empty is undone when the sink refuses its first op',
  (steps) => {
    const ops = [...BOOT, ...steps]
    let failing = false
    const sink = new RecordingSink({
      fail: () => (failing ? makeTdxStatus(TDX_OPERAND_INVALID) : undefined),
    })
    const space = newSpace(sink)
    let oracle = new PageOracle(RAM, MMIO)
    for (const o of ops) {
      const logBefore = sink.log.length
      failing = true
      const trial = oracle.clone()
      const got = runSpace(space, o)
      const want = runOracle(trial, o)
      failing = false
      if (sink.log.length > logBefore) {
        expect(got.status).toBe(HvStatus.OperationFailed)
        compare(space, oracle, sink)
        const again = oracle.clone()
        agree(runSpace(space, o), runOracle(again, o))
        oracle = again
      } else {
        agree(got, want)
        oracle = trial
      }
      compare(space, oracle, sink)
    }
  },
  60_000
)
