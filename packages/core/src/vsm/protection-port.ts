import type { HvStatus } from '../hv/status.js'
import type { GuestVtl } from '../hv/vtl.js'

/** Outcome of a rep-style memory operation: the status and how many elements were processed. */
export interface RepOutcome {
  status: HvStatus
  /** Elements completed before `status` stopped the call (all of them on success). */
  processed: number
}

/**
 * The engine's view of guest memory protections (OpenHCL's `ProtectIsolatedMemory`), implemented by
 * `@vtl/memory`. On TDX the permissions describe what the VTL itself may access: VTL0 → L2 VM #1,
 * VTL1 → L2 VM #2 (vsm-on-tdx.md §5.1). Every method is all-or-nothing unless it reports a partial
 * `processed` count, and a failed call leaves memory exactly as it was.
 */
export interface ProtectionPort {
  /**
   * `change_default_vtl_protections` (§5.2): record `flags` as `vtl`'s default and apply it to every
   * accepted private RAM page; overlay pages only get their saved permissions updated. A locked page
   * fails the whole call with OperationDenied.
   */
  changeDefaultVtlProtections(vtl: GuestVtl, flags: number): HvStatus
  /**
   * `change_vtl_protections` (§5.4 step 7): set `vtl`'s permissions on each page. Every GPN is
   * checked before any is applied: a page that is not RAM, locked, an overlay or shared gives
   * OperationDenied and nothing changes.
   */
  changeVtlProtections(vtl: GuestVtl, gpns: readonly bigint[], flags: number): HvStatus
  /**
   * `change_host_visibility` (§5.6): make pages shared with the host or private again. A VTL0
   * request to share a page whose VTL0 permissions lack R or W stops there with AccessDenied after
   * processing the earlier pages; overlay and locked pages are refused with OperationDenied.
   */
  changeHostVisibility(callerVtl: GuestVtl, gpns: readonly bigint[], shared: boolean): RepOutcome
  /**
   * `register_overlay_page` (§13.14): lock `gpn` as an overlay of `vtl`. Refused
   * (OperationDenied) unless it is accepted private RAM, not locked, on which `vtl` has every
   * permission in `check`; `perms`, when given, are `vtl`'s permissions on it while registered
   * (the hypercall page: read and execute). Ports without overlay bookkeeping leave it out.
   */
  registerOverlay?(
    vtl: GuestVtl,
    gpn: bigint,
    options: { check?: number; perms?: number }
  ): { status: HvStatus }
  /** Drops the overlay registration of `gpn` for `vtl`. */
  unregisterOverlay?(vtl: GuestVtl, gpn: bigint): { status: HvStatus }
  /**
   * Whether each page is shared with the host (QuerySparseGpaPageHostVisibility). On a failure
   * (a page that is not RAM: OperationDenied) `shared` covers only the pages before that one.
   */
  queryHostVisibility(gpns: readonly bigint[]): { status: HvStatus; shared: boolean[] }
}
