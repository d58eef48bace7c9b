import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { RunMap } from './run-map.js'

/** Expands the map page by page; only for small spaces. */
function pages(map: RunMap): number[] {
  const out: number[] = []
  map.forEachRun(0, map.end, (s, e, v) => {
    for (let g = s; g < e; g++) out.push(v)
  })
  return out
}

const op = (end: number) =>
  fc.record({
    kind: fc.constantFrom('assign', 'update'),
    a: fc.integer({ min: 0, max: end }),
    len: fc.integer({ min: 0, max: 40 }),
    value: fc.integer({ min: 0, max: 3 }),
  })

describe('RunMap', () => {
  it('starts as one run and reports it', () => {
    const map = new RunMap(1 << 30, 7)
    expect(map.runCount).toBe(1)
    expect(map.valueAt(12345)).toBe(7)
    expect(map.runBounds(5)).toEqual({ start: 0, end: 1 << 30, value: 7 })
  })

  it('splits and re-merges a single page', () => {
    const map = new RunMap(1000, 0)
    map.assign(10, 11, 1)
    expect(map.runCount).toBe(3)
    expect(map.runBounds(10)).toEqual({ start: 10, end: 11, value: 1 })
    map.assign(10, 11, 0)
    expect(map.runCount).toBe(1)
    map.checkInvariants()
  })

  it('keeps many fragments ordered across leaf splits and merges', () => {
    const map = new RunMap(100_000, 0)
    for (let g = 0; g < 20_000; g += 2) map.assign(g, g + 1, 1)
    expect(map.runCount).toBe(20_000)
    map.checkInvariants()
    for (let g = 0; g < 20_000; g += 4) map.assign(g, g + 1, 0)
    map.checkInvariants()
    map.assign(0, 100_000, 3)
    expect(map.runCount).toBe(1)
    map.checkInvariants()
  })

  it('finds the run of every boundary page at every leaf and directory size', () => {
    // The searches halve a count that is not a power of two in general: check each run's first
    // and last page, and the pages either side, while the map grows from 1 to 301 runs (1..5
    // leaves, their counts changing by one).
    const map = new RunMap(10_000, 0)
    for (let n = 0; n < 150; n++) {
      map.assign(n * 60 + 7, n * 60 + 9, 1 + (n % 3))
      for (let k = 0; k <= n; k++) {
        const s = k * 60 + 7
        expect(map.valueAt(s - 1)).toBe(0)
        expect(map.valueAt(s)).toBe(1 + (k % 3))
        expect(map.runBounds(s + 1)).toEqual({ start: s, end: s + 2, value: 1 + (k % 3) })
        expect(map.valueAt(s + 2)).toBe(0)
      }
      expect(map.runBounds(9_999)).toEqual({ start: n * 60 + 9, end: 10_000, value: 0 })
    }
    map.checkInvariants()
  })

  test.prop([fc.array(op(300), { maxLength: 120 })])(
    'agrees page by page with a plain array',
    (ops) => {
      const end = 300
      const map = new RunMap(end, 0)
      const naive = new Array<number>(end).fill(0)
      for (const o of ops) {
        const b = Math.min(end, o.a + o.len)
        if (o.kind === 'assign') {
          map.assign(o.a, b, o.value)
          for (let g = o.a; g < b; g++) naive[g] = o.value
        } else {
          const fn = (v: number) => (v + o.value) % 4
          map.update(o.a, b, fn)
          for (let g = o.a; g < b; g++) naive[g] = fn(naive[g] ?? 0)
        }
        map.checkInvariants()
        expect(pages(map)).toEqual(naive)
      }
    }
  )

  test.prop([fc.array(op(5000), { maxLength: 400 })], { numRuns: 30 })(
    'survives leaf splits and merges (single pages, many runs)',
    (ops) => {
      const end = 5000
      const map = new RunMap(end, 0)
      const naive = new Array<number>(end).fill(0)
      for (const o of ops) {
        const b = Math.min(end, o.a + 1 + (o.len % 2))
        map.assign(o.a, b, o.value)
        for (let g = o.a; g < b; g++) naive[g] = o.value
      }
      map.checkInvariants()
      expect(pages(map)).toEqual(naive)
    }
  )

  it('agrees with a plain array under 200k random single-page and short-range writes', () => {
    const end = 40_000
    const map = new RunMap(end, 0)
    const naive = new Uint8Array(end)
    let seed = 7
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0
      return (seed >>> 8) % n
    }
    for (let k = 0; k < 200_000; k++) {
      const a = rnd(end)
      const b = Math.min(end, a + (k % 7 === 0 ? 1 + rnd(200) : 1))
      const v = rnd(3)
      map.assign(a, b, v)
      naive.fill(v, a, b)
      if (k % 20_000 === 0) map.checkInvariants()
    }
    map.checkInvariants()
    expect(pages(map)).toEqual(Array.from(naive))
  })

  it('reads stay right when a read of one page is followed by writes to it or elsewhere', () => {
    // valueAt keeps the searched position for a following single-page write; any other write
    // must drop it, or a later read of the same page would use a stale leaf position.
    const end = 20_000
    const map = new RunMap(end, 0)
    const naive = new Uint8Array(end)
    let seed = 11
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0
      return (seed >>> 8) % n
    }
    let wrong = 0
    for (let k = 0; k < 40_000; k++) {
      const a = rnd(end)
      if (map.valueAt(a) !== naive[a]) wrong++
      const v = rnd(3)
      const target = k % 3 === 0 ? rnd(end) : a
      const b = Math.min(end, target + (k % 5 === 0 ? 1 + rnd(300) : 1))
      if (k % 2 === 0) map.assign(target, b, v)
      else map.update(target, b, (w) => (w + v) % 3)
      for (let g = target; g < b; g++) naive[g] = k % 2 === 0 ? v : ((naive[g] ?? 0) + v) % 3
      if (map.valueAt(a) !== naive[a]) wrong++
    }
    expect(wrong).toBe(0)
    map.checkInvariants()
    expect(pages(map)).toEqual(Array.from(naive))
  })
})
