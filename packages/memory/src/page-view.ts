import {
  ACCEPTED,
  flagsOfSlot,
  kindOf,
  LOCKED,
  OVERLAY_VTL0,
  OVERLAY_VTL1,
  PageKind,
  SHARED,
  slotOf,
  vmAttrOfSlot,
  type PageWord,
} from './page-state.js'

export type PageKindName = 'ram' | 'mmio' | 'none'

/** The decoded state of a page or run, for tools. */
export interface PageStateView {
  kind: PageKindName
  accepted: boolean
  shared: boolean
  locked: boolean
  overlay: { vtl0: boolean; vtl1: boolean }
  /** VTL0's HvMapGpaFlags (R W KX UX), `undefined` when L2 VM #1 has no VALID attributes. */
  vtl0: number | undefined
  /** VTL1's HvMapGpaFlags, `undefined` when L2 VM #2 has no VALID attributes. */
  vtl1: number | undefined
  /** The 16-bit `GpaVmAttributes` of L2 VM #1 and #2, as ATTR.RD would report them. */
  vm1Attr: number
  vm2Attr: number
}

const KIND_NAMES: Readonly<Record<PageKind, PageKindName>> = {
  [PageKind.None]: 'none',
  [PageKind.Ram]: 'ram',
  [PageKind.Mmio]: 'mmio',
}

export function viewOf(word: PageWord): PageStateView {
  const s0 = slotOf(word, 0)
  const s1 = slotOf(word, 1)
  return {
    kind: KIND_NAMES[kindOf(word)],
    accepted: (word & ACCEPTED) !== 0,
    shared: (word & SHARED) !== 0,
    locked: (word & LOCKED) !== 0,
    overlay: { vtl0: (word & OVERLAY_VTL0) !== 0, vtl1: (word & OVERLAY_VTL1) !== 0 },
    vtl0: flagsOfSlot(s0),
    vtl1: flagsOfSlot(s1),
    vm1Attr: vmAttrOfSlot(s0),
    vm2Attr: vmAttrOfSlot(s1),
  }
}
