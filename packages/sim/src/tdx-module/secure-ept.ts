import { RunMap } from '@vtl/memory'
import type { PageAttrView } from './types.js'

/** Leaf state of a page's Secure-EPT entry. */
export const PageKind = { FREE: 0, PENDING: 1, ACCEPTED: 2 } as const
export type PageKind = (typeof PageKind)[keyof typeof PageKind]
export type Level = 0 | 1 | 2

/** Pages of 4 KiB in one mapping at each level. */
export const LEVEL_PAGES: readonly [number, number, number] = [1, 512, 262144]

export interface PageState {
  kind: PageKind
  level: Level
  vm1: number
  vm2: number
  vm3: number
}

export const FREE_STATE: PageState = { kind: 0, level: 0, vm1: 0, vm2: 0, vm3: 0 }

/**
 * A page state packed into one safe integer: kind 1:0, level 3:2, vm1 19:4, vm2 35:20, vm3 51:36.
 * Free pages always pack to 0, whatever else was passed.
 */
export function packState(s: PageState): number {
  if (s.kind === PageKind.FREE) return 0
  return ((s.vm3 * 0x1_0000 + s.vm2) * 0x1_0000 + s.vm1) * 16 + s.level * 4 + s.kind
}

export function unpackState(key: number): PageState {
  const low = key % 16
  let rest = Math.floor(key / 16)
  const vm1 = rest % 0x1_0000
  rest = Math.floor(rest / 0x1_0000)
  return {
    kind: (low & 3) as PageKind,
    level: ((low >> 2) & 3) as Level,
    vm1,
    vm2: rest % 0x1_0000,
    vm3: Math.floor(rest / 0x1_0000),
  }
}

export function viewOf(s: PageState): PageAttrView {
  return {
    accepted: s.kind === PageKind.ACCEPTED,
    pending: s.kind === PageKind.PENDING,
    level: s.level,
    vm1: s.vm1,
    vm2: s.vm2,
    vm3: s.vm3,
  }
}

/** How the leaf mapping(s) under an aligned block compare with a requested level. */
export type BlockShape =
  /** One leaf at exactly the requested level. */
  | { kind: 'exact'; state: PageState }
  /** The page sits inside a larger leaf mapping (the host would have to demote it). */
  | { kind: 'larger'; state: PageState }
  /** At least one smaller mapping inside the block: the entry at this level is not a leaf. */
  | { kind: 'smaller' }
  /** Nothing mapped anywhere in the block. */
  | { kind: 'free' }

/**
 * The Secure EPT of the TD's private GPA space, as page runs: cost follows the number of distinct
 * runs, never the number of pages. Each run holds an interned id of a packed `PageState`, because
 * `RunMap` values are 31-bit and a state needs 52.
 */
export class SecureEpt {
  readonly pages: number
  private readonly map: RunMap
  private readonly keys: number[] = [0]
  private readonly ids = new Map<number, number>([[0, 0]])
  /** Bumped by every change: a CPU that caches per-page permissions re-reads only after one. */
  version = 0

  constructor(pages: number) {
    this.pages = pages
    this.map = new RunMap(pages, 0)
  }

  get runCount(): number {
    return this.map.runCount
  }

  /** Distinct states interned so far (the free state included). */
  get stateCount(): number {
    return this.keys.length
  }

  private intern(key: number): number {
    let id = this.ids.get(key)
    if (id === undefined) {
      id = this.keys.length
      this.keys.push(key)
      this.ids.set(key, id)
    }
    return id
  }

  private keyOf(id: number): number {
    return this.keys[id] ?? 0
  }

  stateAt(page: number): PageState {
    return unpackState(this.keyOf(this.map.valueAt(page)))
  }

  set(start: number, end: number, state: PageState): void {
    this.version++
    this.map.assign(start, end, this.intern(packState(state)))
  }

  /** Rewrites every run's state in `[start, end)`. */
  update(start: number, end: number, fn: (state: PageState) => PageState): void {
    this.version++
    this.map.update(start, end, (id) => this.intern(packState(fn(unpackState(this.keyOf(id))))))
  }

  forEachRun(
    start: number,
    end: number,
    fn: (start: number, end: number, state: PageState) => unknown
  ): boolean {
    return this.map.forEachRun(start, end, (s, e, id) => fn(s, e, unpackState(this.keyOf(id))))
  }

  /** Where the walk for `level` at `page` (aligned to that level) ends up. */
  shape(page: number, level: Level): BlockShape {
    const here = this.stateAt(page)
    if (here.kind !== PageKind.FREE && here.level > level) return { kind: 'larger', state: here }
    const size = LEVEL_PAGES[level]
    const seen = { mapped: false, smaller: false }
    this.forEachRun(page, page + size, (_s, _e, st) => {
      if (st.kind === PageKind.FREE) return true
      seen.mapped = true
      seen.smaller = st.level < level
      return !seen.smaller
    })
    if (seen.smaller) return { kind: 'smaller' }
    if (!seen.mapped) return { kind: 'free' }
    return { kind: 'exact', state: here }
  }

  /**
   * Splits the leaf that holds `page` until it is mapped at `level` — what the host VMM does
   * (TDH.MEM.PAGE.DEMOTE) after the EPT-violation TD exit that a too-small request causes.
   */
  demote(page: number, level: Level): void {
    for (;;) {
      const st = this.stateAt(page)
      if (st.kind === PageKind.FREE || st.level <= level) return
      const size = LEVEL_PAGES[st.level]
      const base = page - (page % size)
      const lower = (st.level - 1) as Level
      this.update(base, base + size, (s) => ({ ...s, level: lower }))
    }
  }

  /** Runs as `[start, end, packedState]` triples (free runs left out), for snapshots. */
  toRuns(): [number, number, number][] {
    const out: [number, number, number][] = []
    this.forEachRun(0, this.pages, (s, e, st) => {
      const key = packState(st)
      if (key !== 0) out.push([s, e, key])
    })
    return out
  }

  loadRuns(runs: readonly (readonly [number, number, number])[]): void {
    this.version++
    for (const [s, e, key] of runs) this.map.assign(s, e, this.intern(key))
  }
}
