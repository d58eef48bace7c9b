import { defineSuite } from '@vtl/bench-kit'
import { HV_MAP_GPA_PERMISSIONS_ALL, HvMapGpaFlags, HvStatus } from '@vtl/core'
import { GpaSpace, RunMap } from '../src/index.js'
import {
  ACCEPTED,
  KIND_MASK,
  LOCKED,
  OVERLAY_VTL0,
  PageKind,
  SHARED,
  slotFromFlags,
  withSlot,
} from '../src/page-state.js'

const ALL = HV_MAP_GPA_PERMISSIONS_ALL
const R = HvMapGpaFlags.Readable
const GIB = 1n << 30n
const PAGES_64G = 64 * 262_144

/** mulberry32: a small deterministic PRNG so every run sees the same sequence. */
function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b_79f5) | 0
    let t = Math.imul(s ^ (s >>> 15), 1 | s)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return (t ^ (t >>> 14)) >>> 0
  }
}

// ---- 1. marking a whole guest in one call ----

const markSpaces = new Map<bigint, GpaSpace>()

/**
 * µs of one `mark` that turns the whole guest private + accepted + VTL1 ALL. Calls alternate
 * with a mark back to unaccepted (not timed), on one space per size, so no call finds its work
 * already done and nothing is allocated in the timed loop.
 */
function markMicros(bytes: bigint): number {
  let space = markSpaces.get(bytes)
  if (space === undefined) {
    space = new GpaSpace({ ram: [{ start: 0n, end: bytes }] })
    markSpaces.set(bytes, space)
  }
  const range = { start: 0n, end: bytes }
  const marked = { accepted: true, shared: false, vtl0: ALL, vtl1: ALL }
  const unmarked = { accepted: false, shared: false }
  const rounds = 1000
  // Warm up so the first sample does not carry the JIT's work.
  for (let k = 0; k < rounds; k++) {
    space.mark(range, unmarked)
    space.mark(range, marked)
  }
  // The median of single calls: a preemption on a busy machine costs one call, not the figure.
  const times = new Float64Array(rounds)
  for (let k = 0; k < rounds; k++) {
    space.mark(range, unmarked)
    const start = process.hrtime.bigint()
    space.mark(range, marked)
    times[k] = Number(process.hrtime.bigint() - start) / 1000
  }
  times.sort()
  return times[rounds >> 1] ?? 0
}

// ---- 2. random 4 KiB permission changes, ≤ 100,000 fragments ----

// 50,000 distinct pages of a 64 GiB guest take turns; each change sets VTL0's permissions of one
// of them to R or back to ALL, so the map never holds more than ~100,000 runs.
const POOL = 50_000
const SEQ = 1 << 20
const rnd = prng(42)
const pool = new Float64Array(POOL)
{
  const seen = new Set<number>()
  for (let k = 0; k < POOL;) {
    const g = rnd() % PAGES_64G
    if (seen.has(g)) continue
    seen.add(g)
    pool[k++] = g
  }
}
const sequence = new Int32Array(SEQ)
for (let k = 0; k < SEQ; k++) sequence[k] = rnd() % POOL
const flagsSeq = new Uint8Array(SEQ)
for (let k = 0; k < SEQ; k++) flagsSeq[k] = rnd() & 1 ? R : ALL

const gpnPool = Array.from(pool, (g) => BigInt(g))
const accepted = PageKind.Ram | ACCEPTED
const baseWord = withSlot(accepted, 0, slotFromFlags(ALL))
const slotAll = slotFromFlags(ALL)
const slotR = slotFromFlags(R)

// The bare interval map that backs a GpaSpace, driven with the page words the space stores.
const runs = new RunMap(PAGES_64G, baseWord)
let cursorMap = 0
function toggleInMap(): void {
  const k = cursorMap++ & (SEQ - 1)
  const g = pool[sequence[k] ?? 0] ?? 0
  const slot = flagsSeq[k] === R ? slotR : slotAll
  runs.update(g, g + 1, (w) => withSlot(w, 0, slot))
}

// The per-page baseline: one Int32 word per page (64 MiB), the same checks as
// ModifyVtlProtectionMask (accepted private RAM, not locked, not a VTL0 overlay) and the same
// update, taking the same bigint GPN list; no plan.
const perPage = new Int32Array(PAGES_64G).fill(baseWord)
const refused = LOCKED | OVERLAY_VTL0
let cursorArray = 0
function protectInArray(gpns: readonly bigint[], flags: number): number {
  const limit = BigInt(PAGES_64G)
  for (const gpn of gpns) {
    if (gpn < 0n || gpn >= limit) return HvStatus.OperationDenied
    const w = perPage[Number(gpn)] ?? 0
    if ((w & (KIND_MASK | ACCEPTED | SHARED)) !== accepted || w & refused) {
      return HvStatus.OperationDenied
    }
  }
  const slot = slotFromFlags(flags)
  for (const gpn of gpns) {
    const g = Number(gpn)
    perPage[g] = withSlot(perPage[g] ?? 0, 0, slot)
  }
  return HvStatus.Success
}
function toggleInArray(): void {
  const k = cursorArray++ & (SEQ - 1)
  protectInArray([gpnPool[sequence[k] ?? 0] ?? 0n], flagsSeq[k] ?? ALL)
}

// The whole ProtectionPort path: checks, map update, plan (no sink).
const space64 = new GpaSpace({ ram: [{ start: 0n, end: 64n * GIB }] })
space64.mark({ start: 0n, end: 64n * GIB }, { accepted: true, vtl0: ALL })
let cursorSpace = 0
function toggleInSpace(): void {
  const k = cursorSpace++ & (SEQ - 1)
  space64.protectPages(0, [gpnPool[sequence[k] ?? 0] ?? 0n], flagsSeq[k] ?? ALL)
}

// ---- 3. bytes per fragment at 100,000 fragments ----

function bytesPerFragment(): number {
  // 50,000 isolated pages with other permissions: 100,001 runs.
  const space = new GpaSpace({ ram: [{ start: 0n, end: 64n * GIB }] })
  space.mark({ start: 0n, end: 64n * GIB }, { accepted: true, vtl0: ALL })
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers
  const stride = Math.floor(PAGES_64G / POOL)
  for (let k = 0; k < POOL; k++) space.protectPages(0, [BigInt(k * stride + 1)], R)
  if (gc !== undefined) {
    gc()
    const heapAfter = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers
    return (heapAfter - heapBefore) / space.runCount
  }
  // Without --expose-gc, a heap delta measures garbage too: count the typed-array capacity the
  // map holds instead (every byte a run costs lives there; the directory is included).
  return space.byteLength / space.runCount
}

// ---- 4. ATTR.WR ops to enable VTL1 on a 64 GiB 1 GiB-aligned guest ----

const planSpace = new GpaSpace({ ram: [{ start: 0n, end: 64n * GIB }] })
planSpace.mark({ start: 0n, end: 64n * GIB }, { accepted: true, vtl0: ALL })

export default defineSuite({
  name: 'memory',
  samples: 10,
  cases: [
    {
      id: 'memory.mark-1gib',
      kind: 'value',
      unit: 'µs',
      better: 'lower',
      note: 'mark a 1 GiB guest private + accepted + VTL1 ALL in one call (median of 1000 calls per sample)',
      sample: () => markMicros(GIB),
    },
    {
      id: 'memory.mark-64gib',
      kind: 'value',
      unit: 'µs',
      better: 'lower',
      baseline: 'memory.mark-1gib',
      note: 'the same on 64 GiB: flat, the map holds one run either way',
      sample: () => markMicros(64n * GIB),
    },
    {
      id: 'memory.mark-1tib',
      kind: 'value',
      unit: 'µs',
      better: 'lower',
      baseline: 'memory.mark-1gib',
      target: { value: 1000, unit: 'µs' },
      note: 'the same on 1 TiB',
      sample: () => markMicros(1n << 40n),
    },
    {
      id: 'memory.random-4k-toggles',
      kind: 'throughput',
      baseline: 'memory.random-4k-toggles-typed-array',
      target: { value: 2_000_000, unit: 'ops/s' },
      note:
        'one random 4 KiB VTL0 permission change (R <-> ALL) over 50,000 pages of a 64 GiB guest ' +
        '(<= 100,000 runs) through GpaSpace.protectPages: ModifyVtlProtectionMask checks, map ' +
        'update and plan (no sink)',
      op: toggleInSpace,
    },
    {
      id: 'memory.random-4k-toggles-typed-array',
      kind: 'throughput',
      baselineOnly: true,
      note: 'the same calls on one Int32 word per page (64 MiB): same checks, same update, no plan',
      op: toggleInArray,
    },
    {
      id: 'memory.random-4k-map-update',
      kind: 'throughput',
      baseline: 'memory.random-4k-toggles-typed-array',
      note: 'the same changes as bare interval-map updates (no checks, no plan)',
      op: toggleInMap,
    },
    {
      id: 'memory.bytes-per-fragment',
      kind: 'value',
      unit: 'bytes',
      better: 'lower',
      target: { value: 100, unit: 'bytes' },
      note:
        'interval-map bytes per run at 100,001 runs (heap delta after gc() when exposed, else the ' +
        "map's typed-array capacity, doubling slack included)",
      sample: bytesPerFragment,
    },
    {
      id: 'memory.plan-ops-64gib',
      kind: 'value',
      unit: 'ops',
      better: 'lower',
      baseline: 'memory.plan-ops-64gib-4k',
      note: 'TDG.MEM.PAGE.ATTR.WR ops in the plan enabling VTL1 on a 64 GiB 1 GiB-aligned guest',
      sample: () => planSpace.planDefaultProtections(1, ALL).count('attr-write'),
    },
    {
      id: 'memory.plan-ops-64gib-4k',
      kind: 'value',
      unit: 'ops',
      better: 'lower',
      baselineOnly: true,
      note: 'the same plan with the largest level forced to 4 KiB',
      sample: () => planSpace.planDefaultProtections(1, ALL, 0).count('attr-write'),
    },
  ],
})
