import type { GuestVtl } from '@vtl/core'

/**
 * The state of one page, packed into a small non-negative integer so that a run is one Int32 in
 * the interval map (two runs merge exactly when their words are equal).
 *
 * bits 0–1 kind, 2 accepted, 3 shared, 4 locked, 5 overlay for VTL0, 6 overlay for VTL1,
 * 8–12 VTL0's slot (L2 VM #1), 16–20 VTL1's slot (L2 VM #2). A slot is 5 bits: bit 0 = the
 * attribute is VALID, bits 1–4 = R W KX UX. SSS and the paging bits have no TDX encoding
 * (vsm-on-tdx.md §5.1), so they are never stored.
 */
export type PageWord = number

export const PageKind = { None: 0, Ram: 1, Mmio: 2 } as const
export type PageKind = (typeof PageKind)[keyof typeof PageKind]

export const KIND_MASK = 0b11
export const ACCEPTED = 1 << 2
export const SHARED = 1 << 3
export const LOCKED = 1 << 4
export const OVERLAY_VTL0 = 1 << 5
export const OVERLAY_VTL1 = 1 << 6
const SLOT_SHIFT: Readonly<Record<GuestVtl, number>> = { 0: 8, 1: 16 }
const SLOT_BITS = 0x1f

/** A slot that grants nothing and is not VALID: no L2 mapping (VTL1 before EnablePartitionVtl). */
export const SLOT_NONE = 0

export function kindOf(word: PageWord): PageKind {
  return (word & KIND_MASK) as PageKind
}

export function overlayBit(vtl: GuestVtl): number {
  return vtl === 0 ? OVERLAY_VTL0 : OVERLAY_VTL1
}

/** The 5-bit slot of `vtl`. */
export function slotOf(word: PageWord, vtl: GuestVtl): number {
  return (word >>> SLOT_SHIFT[vtl]) & SLOT_BITS
}

export function withSlot(word: PageWord, vtl: GuestVtl, slot: number): PageWord {
  const shift = SLOT_SHIFT[vtl]
  return (word & ~(SLOT_BITS << shift)) | ((slot & SLOT_BITS) << shift)
}

/** A VALID slot granting `flags` (HvMapGpaFlags; only R W KX UX are kept). */
export function slotFromFlags(flags: number): number {
  return 1 | ((flags & 0xf) << 1)
}

/** The HvMapGpaFlags of a slot, or `undefined` when the slot is not VALID. */
export function flagsOfSlot(slot: number): number | undefined {
  return slot & 1 ? (slot >>> 1) & 0xf : undefined
}

/** The 16-bit `GpaVmAttributes` of a slot: VALID (bit 15) plus R W Xs Xu (bits 0–3). */
export function vmAttrOfSlot(slot: number): number {
  return slot & 1 ? 0x8000 | ((slot >>> 1) & 0xf) : 0
}

/** The slot of a 16-bit `GpaVmAttributes` value (bits other than VALID and 0–3 are dropped). */
export function slotOfVmAttr(attr: number): number {
  return attr & 0x8000 ? 1 | ((attr & 0xf) << 1) : 0
}

/** Private RAM that is accepted: what OpenHCL calls "valid-encrypted". */
export function isAcceptedPrivateRam(word: PageWord): boolean {
  return (word & (KIND_MASK | ACCEPTED | SHARED)) === (PageKind.Ram | ACCEPTED)
}
