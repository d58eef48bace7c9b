import { VtlError } from '../errors/vtl-error.js'
import { HvMapGpaFlags } from '../hv/map-gpa-flags.js'
import type { GuestVtl } from '../hv/vtl.js'

/**
 * One L2 VM's 16-bit slot of `GPA_ATTR` (TDX module `gpa_attr_single_vm_t`; abi.md §3.3).
 */
export const GpaVmAttr = {
  R: 1 << 0,
  W: 1 << 1,
  /** Supervisor execute. */
  Xs: 1 << 2,
  /** User execute. */
  Xu: 1 << 3,
  /** Verify guest paging. */
  VGP: 1 << 4,
  /** Paging-write access. */
  PWA: 1 << 5,
  /** Supervisor shadow stack. */
  SSS: 1 << 6,
  /** Suppress #VE. */
  SVE: 1 << 7,
  /** An alias exists; when clear every other bit must be clear. */
  VALID: 1 << 15,
} as const

/** Bits a guest (an L1 VMM) may set: 6:0 and VALID (`GUEST_L2_GPA_ATTR_MASK`). */
export const GUEST_L2_GPA_ATTR_MASK = 0x807f
/** R | W | Xs | Xu | VALID: what OpenHCL grants on acceptance (`FULL_ACCESS`). */
export const GPA_VM_ATTR_FULL_ACCESS = 0x800f
/** The ATTR.WR mask OpenHCL uses for every protection change (`ALL_CHANGED`): bits 0–3. */
export const GPA_VM_ATTR_MASK_ALL_CHANGED = 0x000f
/** ATTR_FLAGS bit 15 of a slot: INVEPT that VM after the change. */
export const GPA_VM_ATTR_FLAG_INVEPT = 1 << 15

/** Slot index inside the 64-bit word: 0 = L1, 1..3 = L2 VM #1..#3. */
export type AttrSlot = 0 | 1 | 2 | 3

/** `vm_index = vtl + 1`: VTL0 runs in L2 VM #1, VTL1 in L2 VM #2 (vsm-on-tdx.md §6.1). */
export function vmIndexForVtl(vtl: GuestVtl): 1 | 2 {
  return vtl === 0 ? 1 : 2
}

/**
 * `HvMapGpaFlags` → one VM's attribute slot, as `GpaVmAttributes::from(flags)` does: R, W, KX, UX
 * map one to one, VALID is always set, SSS / paging-writability / adjustable have no TDX encoding
 * and are dropped (vsm-on-tdx.md §5.1).
 */
export function vmAttrFromMapGpaFlags(flags: number): number {
  return (
    GpaVmAttr.VALID |
    (flags &
      (HvMapGpaFlags.Readable |
        HvMapGpaFlags.Writable |
        HvMapGpaFlags.KernelExecutable |
        HvMapGpaFlags.UserExecutable))
  )
}

/** The R/W/KX/UX part of a slot as `HvMapGpaFlags`; 0 when the slot is not VALID. */
export function mapGpaFlagsFromVmAttr(attr: number): number {
  return attr & GpaVmAttr.VALID ? attr & 0xf : 0
}

function checkSlotValue(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new VtlError('E_FIELD_RANGE', `${field} must be a 16-bit value, got ${value}`, { field })
  }
}

/** Places a 16-bit value in slot `slot` of a 64-bit `GPA_ATTR` / ATTR_FLAGS word. */
export function packAttrSlot(slot: AttrSlot, value: number): bigint {
  checkSlotValue(value, `slot${slot}`)
  return BigInt(value) << BigInt(16 * slot)
}

/** Reads the 16-bit value of slot `slot` out of a 64-bit word. */
export function unpackAttrSlot(word: bigint, slot: AttrSlot): number {
  return Number((word >> BigInt(16 * slot)) & 0xffffn)
}

/** The four slots of a `GPA_ATTR` word. */
export interface GpaAttr {
  l1: number
  vm1: number
  vm2: number
  vm3: number
}

export function encodeGpaAttr(attr: GpaAttr): bigint {
  return (
    packAttrSlot(0, attr.l1) |
    packAttrSlot(1, attr.vm1) |
    packAttrSlot(2, attr.vm2) |
    packAttrSlot(3, attr.vm3)
  )
}

export function decodeGpaAttr(word: bigint): GpaAttr {
  if (word < 0n || word > 0xffff_ffff_ffff_ffffn) {
    throw new VtlError('E_FIELD_RANGE', 'GPA_ATTR must be an unsigned 64-bit value', {
      field: 'GPA_ATTR',
    })
  }
  return {
    l1: unpackAttrSlot(word, 0),
    vm1: unpackAttrSlot(word, 1),
    vm2: unpackAttrSlot(word, 2),
    vm3: unpackAttrSlot(word, 3),
  }
}

/**
 * RDX and R8 of one TDG.MEM.PAGE.ATTR.WR that sets `flags` for `vtl`'s L2 VM with the
 * ALL_CHANGED mask, exactly as OpenHCL issues it (no INVEPT: TLB flushes are separate).
 */
export function attrWriteOperands(vtl: GuestVtl, flags: number): { rdx: bigint; r8: bigint } {
  const slot = vmIndexForVtl(vtl)
  return {
    rdx: packAttrSlot(slot, vmAttrFromMapGpaFlags(flags)),
    r8: packAttrSlot(slot, GPA_VM_ATTR_MASK_ALL_CHANGED),
  }
}
