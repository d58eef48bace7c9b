import { formatMapGpaFlags } from '@vtl/core'
import {
  ACCEPTED,
  isAcceptedPrivateRam,
  kindOf,
  LOCKED,
  OVERLAY_VTL0,
  OVERLAY_VTL1,
  PageKind,
  SHARED,
  slotOf,
} from './page-state.js'
import type { RunMap } from './run-map.js'

export interface SpaceSummary {
  runs: number
  pages: {
    ram: number
    mmio: number
    private: number
    shared: number
    accepted: number
    locked: number
    overlay: number
  }
  /**
   * Accepted private RAM pages by permission (`formatMapGpaFlags` text, `none` for no VALID
   * attributes).
   */
  vtl0: Record<string, number>
  vtl1: Record<string, number>
}

/** Walks every run once: the cost follows the number of runs, not pages. */
export function summarize(map: RunMap, pageLimit: number): SpaceSummary {
  const sum: SpaceSummary = {
    runs: map.runCount,
    pages: { ram: 0, mmio: 0, private: 0, shared: 0, accepted: 0, locked: 0, overlay: 0 },
    vtl0: {},
    vtl1: {},
  }
  const label = (slot: number): string =>
    slot & 1 ? formatMapGpaFlags((slot >>> 1) & 0xf) : 'none'
  map.forEachRun(0, pageLimit, (s, e, w) => {
    const n = e - s
    const kind = kindOf(w)
    if (kind === PageKind.Mmio) sum.pages.mmio += n
    if (kind !== PageKind.Ram) return
    sum.pages.ram += n
    if (w & SHARED) sum.pages.shared += n
    else sum.pages.private += n
    if (w & ACCEPTED) sum.pages.accepted += n
    if (w & LOCKED) sum.pages.locked += n
    if (w & (OVERLAY_VTL0 | OVERLAY_VTL1)) sum.pages.overlay += n
    if (isAcceptedPrivateRam(w)) {
      const l0 = label(slotOf(w, 0))
      const l1 = label(slotOf(w, 1))
      sum.vtl0[l0] = (sum.vtl0[l0] ?? 0) + n
      sum.vtl1[l1] = (sum.vtl1[l1] ?? 0) + n
    }
  })
  return sum
}
