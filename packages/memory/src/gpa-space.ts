import {
  assertGpaWidth,
  classifyGpa,
  HV_MAP_GPA_PERMISSIONS_ALL,
  HvMapGpaFlags,
  HvStatus,
  VtlError,
  type GpaWidth,
  type GuestVtl,
  type PageLevel,
  type ProtectionPort,
  type RepOutcome,
} from '@vtl/core'
import { executePlan } from './executor.js'
import { toPageRange, type GpaRange } from './gpa-range.js'
import {
  ACCEPTED,
  flagsOfSlot,
  isAcceptedPrivateRam,
  KIND_MASK,
  kindOf,
  LOCKED,
  OVERLAY_VTL0,
  OVERLAY_VTL1,
  overlayBit,
  PageKind,
  SHARED,
  SLOT_NONE,
  slotFromFlags,
  slotOf,
  slotOfVmAttr,
  vmAttrOfSlot,
  withSlot,
  type PageWord,
} from './page-state.js'
import { viewOf, type PageStateView } from './page-view.js'
import { attrWriteStep, diffRuns, type RunSnapshot } from './plan-diff.js'
import { Plan, type PlanOp } from './plan.js'
import type { PlanSink } from './plan-sink.js'
import { RunMap } from './run-map.js'
import { mergePages } from './page-list.js'
import { summarize, type SpaceSummary } from './space-summary.js'

export interface GpaSpaceOptions {
  /** 48 (shared bit 47, the default, as OpenHCL assumes) or 52 (shared bit 51). */
  gpaWidth?: GpaWidth
  /** Lower-VTL RAM. Everything that is neither RAM nor MMIO is "not RAM". */
  ram: readonly GpaRange[]
  /** MMIO holes (never accepted, never protected). */
  mmio?: readonly GpaRange[]
  /** Executes plans. Without one, plans are computed and the map is the only state. */
  sink?: PlanSink
  /** TDX Connect: private→shared also issues TDG.MEM.PAGE.RELEASE (§5.2). Default off. */
  tdxConnect?: boolean
  /** Extra attempts after TDX_OPERAND_BUSY (default 3; OpenHCL: 0, §13.4). */
  busyRetries?: number
  /** The largest mapping level plans use (default 2 = 1 GiB). */
  maxLevel?: PageLevel
}

export interface MutationResult {
  status: HvStatus
  /** Elements processed (rep-style calls); all of them on success, 0 after a sink failure. */
  processed: number
  plan: Plan
  /** Ops the sink completed (empty without a sink, or after a failure that was undone). */
  executed: readonly PlanOp[]
  /** Set when the sink failed: the op, the status it returned, and the compensating plan run. */
  failure?: { op: PlanOp; status: bigint; undo: Plan }
}

/**
 * Fields to declare with `mark`; a field left out keeps each page's current value. `accepted`
 * implies private, `shared` clears acceptance, and unaccepted pages have no attributes.
 */
export interface MarkState {
  accepted?: boolean
  shared?: boolean
  locked?: boolean
  /** HvMapGpaFlags, or `null` for no VALID attributes. Needs `accepted`. */
  vtl0?: number | null
  vtl1?: number | null
}

export interface RunView {
  start: bigint
  end: bigint
  state: PageStateView
}

interface OverlayRecord {
  count: number
  /** The slot to restore on the last unregister. */
  saved: number
}

/**
 * `OperationFailed` for a sink (TDX module or host) failure: the spec is silent because OpenHCL
 * panics there (§5.2 step 5, §5.6, §13.4); we undo and report a failure not due to the caller.
 */
const SINK_FAILURE_STATUS = HvStatus.OperationFailed

const EMPTY_PLAN = new Plan([])
/** Shared by every result whose sink ran nothing (the field is read-only). */
const NONE_EXECUTED: readonly PlanOp[] = Object.freeze([])

/**
 * The guest physical address space of a TDX guest with VSM: acceptance, private/shared marking,
 * per-VTL permissions, locks and overlays over an interval map, and the minimal hardware plan for
 * every change. Implements core's `ProtectionPort`.
 */
export class GpaSpace implements ProtectionPort {
  readonly gpaWidth: GpaWidth
  /** Number of canonical pages (below the shared bit). */
  readonly pageLimit: number
  readonly maxLevel: PageLevel
  private readonly map: RunMap
  private readonly ram: number[] = []
  private sink: PlanSink | undefined
  private readonly tdxConnect: boolean
  private readonly busyRetries: number | undefined
  private readonly overlays = new Map<number, OverlayRecord>()
  private defaultVtl0: number = HV_MAP_GPA_PERMISSIONS_ALL
  private defaultVtl1: number | undefined = undefined

  constructor(options: GpaSpaceOptions) {
    const width: number = options.gpaWidth ?? 48
    assertGpaWidth(width)
    this.gpaWidth = width
    this.pageLimit = 2 ** (width - 1 - 12)
    this.maxLevel = options.maxLevel ?? 2
    this.sink = options.sink
    this.tdxConnect = options.tdxConnect ?? false
    this.busyRetries = options.busyRetries
    this.map = new RunMap(this.pageLimit, PageKind.None)
    const ranges: { s: number; e: number; kind: PageKind; field: string }[] = []
    options.ram.forEach((r, i) => {
      const [s, e] = this.canonicalLayoutRange(r, `ram[${i}]`)
      ranges.push({ s, e, kind: PageKind.Ram, field: `ram[${i}]` })
    })
    ;(options.mmio ?? []).forEach((r, i) => {
      const [s, e] = this.canonicalLayoutRange(r, `mmio[${i}]`)
      ranges.push({ s, e, kind: PageKind.Mmio, field: `mmio[${i}]` })
    })
    ranges.sort((a, b) => a.s - b.s)
    for (let i = 1; i < ranges.length; i++) {
      const prev = ranges[i - 1]
      const cur = ranges[i]
      if (prev !== undefined && cur !== undefined && cur.s < prev.e) {
        throw new VtlError('E_OVERLAP', `${cur.field} overlaps ${prev.field}`, {
          field: cur.field,
        })
      }
    }
    for (const r of ranges) {
      this.map.assign(r.s, r.e, r.kind)
      if (r.kind === PageKind.Ram) this.ram.push(r.s, r.e)
    }
  }

  /** The recorded defaults: VTL0 starts at ALL, VTL1 is undefined until EnablePartitionVtl. */
  get defaults(): { vtl0: number; vtl1: number | undefined } {
    return { vtl0: this.defaultVtl0, vtl1: this.defaultVtl1 }
  }

  /** Replaces the sink plans run on (`undefined`: plan only). */
  useSink(sink: PlanSink | undefined): void {
    this.sink = sink
  }

  /** Distinct runs in the map. */
  get runCount(): number {
    return this.map.runCount
  }

  /** Bytes the interval map's typed arrays hold. */
  get byteLength(): number {
    return this.map.byteLength
  }

  // ---- declaring state (no hardware) ----

  /**
   * Declares the state a RAM range already has in hardware (pages accepted by the boot shim,
   * restored state), with no plan: O(log n) whatever the size.
   */
  mark(range: GpaRange, state: MarkState): void {
    const [s, e] = toPageRange(range, this.gpaWidth, 'range')
    this.requireRam(s, e, 'range')
    if (state.shared === true && state.accepted === true) {
      throw new VtlError('E_INVALID_VALUE', 'a shared page cannot be accepted', { field: 'state' })
    }
    const wantsSlots =
      (state.vtl0 !== undefined && state.vtl0 !== null) ||
      (state.vtl1 !== undefined && state.vtl1 !== null)
    if (wantsSlots && (state.accepted === false || state.shared === true)) {
      throw new VtlError('E_INVALID_VALUE', 'permissions need an accepted private page', {
        field: 'state',
      })
    }
    this.map.forEachRun(s, e, (rs, _re, w) => {
      if (w & (OVERLAY_VTL0 | OVERLAY_VTL1)) {
        throw new VtlError('E_INVALID_VALUE', `page 0x${rs.toString(16)} is an overlay page`, {
          field: 'range',
        })
      }
    })
    this.map.update(s, e, (w) => {
      let next = w
      // Accepted implies private: a page is never both.
      if (state.accepted !== undefined) {
        next = state.accepted ? (next | ACCEPTED) & ~SHARED : next & ~ACCEPTED
      }
      if (state.shared !== undefined) {
        next = state.shared ? (next | SHARED) & ~ACCEPTED : next & ~SHARED
      }
      if (state.locked !== undefined) next = state.locked ? next | LOCKED : next & ~LOCKED
      if (state.vtl0 !== undefined) {
        next = withSlot(next, 0, state.vtl0 === null ? SLOT_NONE : slotFromFlags(state.vtl0))
      }
      if (state.vtl1 !== undefined) {
        next = withSlot(next, 1, state.vtl1 === null ? SLOT_NONE : slotFromFlags(state.vtl1))
      }
      if (!(next & ACCEPTED)) next = withSlot(withSlot(next, 0, SLOT_NONE), 1, SLOT_NONE)
      return next
    })
  }

  /** Sets the recorded defaults without touching pages (for restoring a saved state). */
  setDefaults(defaults: { vtl0: number; vtl1: number | undefined }): void {
    this.defaultVtl0 = defaults.vtl0 & 0xf
    this.defaultVtl1 = defaults.vtl1 === undefined ? undefined : defaults.vtl1 & 0xf
  }

  // ---- mutations with plans ----

  /**
   * TDG.MEM.PAGE.ACCEPT over a private RAM range, then the default attributes: VTL0's default
   * (FULL_ACCESS at boot) and VTL1's when it is defined. Pages already accepted or shared are bad
   * input (OpenHCL panics on PAGE_ALREADY_ACCEPTED).
   */
  acceptPages(range: GpaRange): MutationResult {
    const [s, e] = toPageRange(range, this.gpaWidth, 'range')
    this.requireRam(s, e, 'range')
    this.map.forEachRun(s, e, (rs, _re, w) => {
      if (w & (ACCEPTED | SHARED)) {
        throw new VtlError(
          'E_ALREADY_ACCEPTED',
          `page 0x${rs.toString(16)} is already ${w & SHARED ? 'shared' : 'accepted'}`,
          { field: 'range' }
        )
      }
    })
    const s0 = slotFromFlags(this.defaultVtl0)
    const s1 = this.defaultVtl1 === undefined ? SLOT_NONE : slotFromFlags(this.defaultVtl1)
    return this.mutate([s, e], () => {
      this.map.update(s, e, (w) => withSlot(withSlot(w | ACCEPTED, 0, s0), 1, s1))
    })
  }

  /**
   * `change_default_vtl_protections` (§5.2): records `flags` as `vtl`'s default and applies it to
   * every accepted private RAM page; overlay pages of `vtl` only get their saved permissions
   * updated. A locked page fails the call with OperationDenied and nothing changes — the default is
   * not recorded either (OpenHCL records it first; we keep the call all-or-nothing).
   */
  applyDefaultProtections(vtl: GuestVtl, flags: number): MutationResult {
    return this.defaultProtections(vtl, flags, false, this.maxLevel)
  }

  /** The plan `applyDefaultProtections` would run, changing nothing. */
  planDefaultProtections(vtl: GuestVtl, flags: number, maxLevel: PageLevel = this.maxLevel): Plan {
    return this.defaultProtections(vtl, flags, true, maxLevel).plan
  }

  private defaultProtections(
    vtl: GuestVtl,
    flags: number,
    dryRun: boolean,
    maxLevel: PageLevel
  ): MutationResult {
    for (let k = 0; k < this.ram.length; k += 2) {
      const clear = this.map.forEachRun(
        this.ram[k] ?? 0,
        this.ram[k + 1] ?? 0,
        (_s, _e, w) => !(isAcceptedPrivateRam(w) && w & LOCKED)
      )
      if (!clear) return this.denied(HvStatus.OperationDenied)
    }
    const slot = slotFromFlags(flags)
    const ob = overlayBit(vtl)
    const result = this.mutate(
      this.ram,
      () => {
        for (let k = 0; k < this.ram.length; k += 2) {
          this.map.update(this.ram[k] ?? 0, this.ram[k + 1] ?? 0, (w) =>
            isAcceptedPrivateRam(w) && !(w & ob) ? withSlot(w, vtl, slot) : w
          )
        }
      },
      dryRun,
      maxLevel
    )
    if (!dryRun && result.status === HvStatus.Success) {
      if (vtl === 0) this.defaultVtl0 = flags & 0xf
      else this.defaultVtl1 = flags & 0xf
      for (const [key, record] of this.overlays) if (key % 2 === vtl) record.saved = slot
    }
    return result
  }

  /**
   * `change_vtl_protections` (§5.4 step 7) over a guest's GPN list, in the guest's order
   * (unsorted and repeated GPNs are fine). Every page is checked before any is applied: not RAM,
   * locked, an overlay of `vtl`, shared — or private but not accepted, which has no L2 mapping to
   * write — gives OperationDenied and nothing changes (§13.9).
   */
  protectPages(vtl: GuestVtl, gpns: readonly bigint[], flags: number): MutationResult {
    const slot = slotFromFlags(flags)
    if (gpns.length === 1) return this.protectPage(vtl, gpns[0] ?? -1n, slot)
    const pages: number[] = []
    for (const g of gpns) {
      const page = this.pageNumber(g)
      if (page < 0 || !this.protectable(this.map.valueAt(page), vtl)) {
        return this.denied(HvStatus.OperationDenied)
      }
      pages.push(page)
    }
    const ranges = mergePages(pages)
    const result = this.mutate(ranges, () => {
      for (let k = 0; k < ranges.length; k += 2) {
        this.map.update(ranges[k] ?? 0, ranges[k + 1] ?? 0, (w) => withSlot(w, vtl, slot))
      }
    })
    if (result.status === HvStatus.Success) result.processed = gpns.length
    return result
  }

  /**
   * `protectPages` of one GPN, the common call (and the 4 KiB toggle benchmark): one search of the
   * map, and the plan is the single ATTR.WR of `vtl`'s slot (nothing else about the page changes).
   */
  private protectPage(vtl: GuestVtl, gpn: bigint, slot: number): MutationResult {
    const page = this.pageNumber(gpn)
    if (page < 0) return this.denied(HvStatus.OperationDenied)
    const w = this.map.valueAt(page)
    if (!this.protectable(w, vtl)) return this.denied(HvStatus.OperationDenied)
    const to = withSlot(w, vtl, slot)
    if (to === w) {
      return { status: HvStatus.Success, processed: 1, plan: EMPTY_PLAN, executed: NONE_EXECUTED }
    }
    this.map.assign(page, page + 1, to)
    const plan = new Plan([attrWriteStep(page, vtl, slot)], this.maxLevel)
    // Without a sink the plan is the answer: no snapshot to undo from is needed.
    if (this.sink === undefined) {
      return { status: HvStatus.Success, processed: 1, plan, executed: NONE_EXECUTED }
    }
    const result = this.settle(plan, [page, page + 1, w])
    if (result.status === HvStatus.Success) result.processed = 1
    return result
  }

  /** `protectPages` over a typed range; bad ranges and ranges that are not all RAM throw. */
  protectRange(vtl: GuestVtl, range: GpaRange, flags: number): MutationResult {
    const [s, e] = toPageRange(range, this.gpaWidth, 'range')
    this.requireRam(s, e, 'range')
    const ok = this.map.forEachRun(s, e, (_rs, _re, w) => this.protectable(w, vtl))
    if (!ok) return this.denied(HvStatus.OperationDenied)
    const slot = slotFromFlags(flags)
    const result = this.mutate([s, e], () => {
      this.map.update(s, e, (w) => withSlot(w, vtl, slot))
    })
    return result.status === HvStatus.Success ? { ...result, processed: e - s } : result
  }

  /**
   * `change_host_visibility` (§5.6, §13.9), in the guest's order. First every page is checked:
   * not RAM or locked → OperationDenied, and so is an overlay page being shared; nothing changes.
   * Then a VTL0 request to share stops at the first private page whose VTL0 permissions lack R or
   * W (an unaccepted page has none): the pages before it are processed and the call returns
   * AccessDenied with that index. Pages already in the target state are left alone and not
   * checked (OpenHCL also checks an already-shared page's cleared VTL0 bitmap, once VTL1
   * protections are on, and refuses it; re-sharing a shared page is harmless, so we allow it).
   * Private→shared: (RELEASE with TDX Connect) then MapGPA. Shared→private: MapGPA, ACCEPT, then
   * VTL0's default and VTL1's when defined.
   */
  setHostVisibility(callerVtl: GuestVtl, gpns: readonly bigint[], shared: boolean): MutationResult {
    const pages: number[] = []
    for (const g of gpns) {
      const page = this.pageNumber(g)
      const w = page < 0 ? 0 : this.map.valueAt(page)
      if (kindOf(w) !== PageKind.Ram || w & LOCKED) return this.denied(HvStatus.OperationDenied)
      if (shared && w & (OVERLAY_VTL0 | OVERLAY_VTL1)) return this.denied(HvStatus.OperationDenied)
      pages.push(page)
    }
    let limit = pages.length
    let status: HvStatus = HvStatus.Success
    if (shared && callerVtl === 0) {
      const rw = HvMapGpaFlags.Readable | HvMapGpaFlags.Writable
      for (let k = 0; k < pages.length; k++) {
        const w = this.map.valueAt(pages[k] ?? 0)
        if (w & SHARED) continue
        const slot = slotOf(w, 0)
        if (!(slot & 1) || ((slot >>> 1) & rw) !== rw) {
          limit = k
          status = HvStatus.AccessDenied
          break
        }
      }
    }
    const ranges = mergePages(pages.slice(0, limit))
    const s0 = slotFromFlags(this.defaultVtl0)
    const s1 = this.defaultVtl1 === undefined ? SLOT_NONE : slotFromFlags(this.defaultVtl1)
    const clearSlots = (w: number): number => withSlot(withSlot(w, 0, SLOT_NONE), 1, SLOT_NONE)
    const result = this.mutate(ranges, () => {
      for (let k = 0; k < ranges.length; k += 2) {
        this.map.update(ranges[k] ?? 0, ranges[k + 1] ?? 0, (w) => {
          if (((w & SHARED) !== 0) === shared) return w
          return shared
            ? clearSlots((w | SHARED) & ~ACCEPTED)
            : withSlot(withSlot((w & ~SHARED) | ACCEPTED, 0, s0), 1, s1)
        })
      }
    })
    if (result.status !== HvStatus.Success) return result
    return { ...result, status, processed: limit }
  }

  /** Locks RAM pages: default protections, protection changes and visibility changes refuse them. */
  lock(range: GpaRange): void {
    const [s, e] = toPageRange(range, this.gpaWidth, 'range')
    this.requireRam(s, e, 'range')
    this.map.update(s, e, (w) => w | LOCKED)
  }

  unlock(range: GpaRange): void {
    const [s, e] = toPageRange(range, this.gpaWidth, 'range')
    this.requireRam(s, e, 'range')
    this.map.update(s, e, (w) => w & ~LOCKED)
  }

  /**
   * Registers an overlay page of `vtl` (hypercall page, VP assist page, SynIC pages), reference
   * counted, as OpenHCL's `register_overlay_page` does. The first registration needs accepted,
   * private, unlocked RAM whose `vtl` permissions include `check`; it saves those permissions and
   * applies `perms` when given (the hypercall page: R + KX + UX). A later registration only counts,
   * and needs `perms ?? check` to be within the overlay's permissions. Every refusal is
   * OperationDenied, as in OpenHCL. `saved` (restoring a saved state; first registration only) is
   * what the last unregister gives back instead of the page's permissions now (null: none).
   */
  registerOverlay(
    vtl: GuestVtl,
    gpn: bigint,
    options: { check?: number; perms?: number; saved?: number | null } = {}
  ): MutationResult {
    const page = this.pageNumber(gpn)
    const key = page * 2 + vtl
    const record = page < 0 ? undefined : this.overlays.get(key)
    const w = page < 0 ? 0 : this.map.valueAt(page)
    const slot = slotOf(w, vtl)
    const have = slot & 1 ? (slot >>> 1) & 0xf : 0
    if (record !== undefined) {
      const needed = (options.perms ?? options.check ?? 0) & 0xf
      if ((have & needed) !== needed) return this.denied(HvStatus.OperationDenied)
      record.count++
      return { status: HvStatus.Success, processed: 1, plan: EMPTY_PLAN, executed: NONE_EXECUTED }
    }
    const check = (options.check ?? 0) & 0xf
    if (!isAcceptedPrivateRam(w) || w & LOCKED || (have & check) !== check) {
      return this.denied(HvStatus.OperationDenied)
    }
    const next = options.perms === undefined ? slot : slotFromFlags(options.perms)
    const result = this.mutate([page, page + 1], () => {
      this.map.assign(page, page + 1, withSlot(w | overlayBit(vtl), vtl, next))
    })
    if (result.status !== HvStatus.Success) return result
    const saved =
      options.saved === undefined
        ? slot
        : options.saved === null
          ? SLOT_NONE
          : slotFromFlags(options.saved)
    this.overlays.set(key, { count: 1, saved })
    result.processed = 1
    return result
  }

  /**
   * Drops one reference; the last one restores the saved permissions. A page that is not an
   * overlay of `vtl` gives OperationDenied, as in OpenHCL.
   */
  unregisterOverlay(vtl: GuestVtl, gpn: bigint): MutationResult {
    const page = this.pageNumber(gpn)
    const key = page * 2 + vtl
    const record = page < 0 ? undefined : this.overlays.get(key)
    if (record === undefined) return this.denied(HvStatus.OperationDenied)
    if (record.count > 1) {
      record.count--
      return { status: HvStatus.Success, processed: 1, plan: EMPTY_PLAN, executed: NONE_EXECUTED }
    }
    const w = this.map.valueAt(page)
    const result = this.mutate([page, page + 1], () => {
      this.map.assign(page, page + 1, withSlot(w & ~overlayBit(vtl), vtl, record.saved))
    })
    if (result.status !== HvStatus.Success) return result
    this.overlays.delete(key)
    result.processed = 1
    return result
  }

  /** Reference count of an overlay page (0 when it is not one). */
  overlayCount(vtl: GuestVtl, gpn: bigint): number {
    const page = this.pageNumber(gpn)
    return page < 0 ? 0 : (this.overlays.get(page * 2 + vtl)?.count ?? 0)
  }

  /**
   * `vtl`'s permissions the last unregister of overlay page `gpn` gives back (null: none), or
   * undefined when the page is not an overlay of `vtl`.
   */
  overlaySavedPermissions(vtl: GuestVtl, gpn: bigint): number | null | undefined {
    const page = this.pageNumber(gpn)
    const record = page < 0 ? undefined : this.overlays.get(page * 2 + vtl)
    return record === undefined ? undefined : (flagsOfSlot(record.saved) ?? null)
  }

  // ---- ProtectionPort ----

  changeDefaultVtlProtections(vtl: GuestVtl, flags: number): HvStatus {
    return this.applyDefaultProtections(vtl, flags).status
  }

  changeVtlProtections(vtl: GuestVtl, gpns: readonly bigint[], flags: number): HvStatus {
    return this.protectPages(vtl, gpns, flags).status
  }

  changeHostVisibility(callerVtl: GuestVtl, gpns: readonly bigint[], shared: boolean): RepOutcome {
    const { status, processed } = this.setHostVisibility(callerVtl, gpns, shared)
    return { status, processed }
  }

  /**
   * A page that is not RAM gives OperationDenied, as a visibility change would; `shared` then
   * covers the pages before it (its length is the failing index, §13.17).
   */
  queryHostVisibility(gpns: readonly bigint[]): { status: HvStatus; shared: boolean[] } {
    const shared: boolean[] = []
    for (const g of gpns) {
      const page = this.pageNumber(g)
      const w = page < 0 ? 0 : this.map.valueAt(page)
      if (kindOf(w) !== PageKind.Ram) return { status: HvStatus.OperationDenied, shared }
      shared.push((w & SHARED) !== 0)
    }
    return { status: HvStatus.Success, shared }
  }

  // ---- queries ----

  /** The state of the page holding `gpa`; the shared alias is accepted and reported. */
  stateOf(gpa: bigint): PageStateView & { gpn: bigint; viaSharedAlias: boolean } {
    const { canonical, shared } = classifyGpa(gpa, this.gpaWidth)
    const gpn = canonical >> 12n
    return { ...viewOf(this.map.valueAt(Number(gpn))), gpn, viaSharedAlias: shared }
  }

  /**
   * The runs overlapping `range`, clipped to it, at most `limit` of them (default 1000) from
   * `cursor` (a GPA inside the range, from a previous call's `next`).
   */
  runs(
    range: GpaRange,
    options: { cursor?: bigint; limit?: number } = {}
  ): { runs: RunView[]; next: bigint | undefined } {
    const [s, e] = toPageRange(range, this.gpaWidth, 'range')
    const limit = options.limit ?? 1000
    if (!Number.isSafeInteger(limit) || limit <= 0) {
      throw new VtlError('E_FIELD_RANGE', 'limit must be a positive integer', { field: 'limit' })
    }
    let from = s
    if (options.cursor !== undefined) {
      const c = options.cursor
      if ((c & 0xfffn) !== 0n) {
        throw new VtlError('E_UNALIGNED', 'cursor is not 4 KiB aligned', { field: 'cursor' })
      }
      const page = Number(classifyGpa(c, this.gpaWidth).canonical >> 12n)
      if (page < s || page >= e) {
        throw new VtlError('E_FIELD_RANGE', 'cursor is outside the range', { field: 'cursor' })
      }
      from = page
    }
    const out: RunView[] = []
    let next: bigint | undefined
    this.map.forEachRun(from, e, (rs, re, w) => {
      if (out.length === limit) {
        next = BigInt(rs) << 12n
        return false
      }
      out.push({ start: BigInt(rs) << 12n, end: BigInt(re) << 12n, state: viewOf(w) })
      return true
    })
    return { runs: out, next }
  }

  /** Page counts per state over the whole space, and per-VTL permission histograms. */
  summary(): SpaceSummary {
    return summarize(this.map, this.pageLimit)
  }

  // ---- internals ----

  private canonicalLayoutRange(range: GpaRange, field: string): [number, number] {
    const [s, e] = toPageRange(range, this.gpaWidth, field)
    if (range.start >= 1n << BigInt(this.gpaWidth - 1)) {
      throw new VtlError('E_FIELD_RANGE', `${field} must use canonical (private) addresses`, {
        field,
      })
    }
    return [s, e]
  }

  /** Canonical page number of a guest GPN, or -1 when it is outside the canonical space. */
  private pageNumber(gpn: bigint): number {
    // Exact without BigInt comparisons: the limit is an integer below 2^53, and converting to a
    // Number rounds monotonically, so no GPN at or above it lands below it.
    const page = Number(gpn)
    return page >= 0 && page < this.pageLimit ? page : -1
  }

  private protectable(w: PageWord, vtl: GuestVtl): boolean {
    return isAcceptedPrivateRam(w) && !(w & (LOCKED | overlayBit(vtl)))
  }

  private requireRam(s: number, e: number, field: string): void {
    this.map.forEachRun(s, e, (rs, _re, w) => {
      if ((w & KIND_MASK) !== PageKind.Ram) {
        throw new VtlError('E_NOT_RAM', `${field} covers page 0x${rs.toString(16)}, not RAM`, {
          field,
        })
      }
    })
  }

  private denied(status: HvStatus): MutationResult {
    return { status, processed: 0, plan: EMPTY_PLAN, executed: NONE_EXECUTED }
  }

  /**
   * The runs over `ranges`: page pairs, or (`stride` 3) the pages an earlier snapshot covers.
   */
  private snapshot(ranges: readonly number[], stride = 2): RunSnapshot {
    const a = ranges[0] ?? 0
    if (ranges.length === stride && ranges[1] === a + 1) return [a, a + 1, this.map.valueAt(a)]
    const out: RunSnapshot = []
    for (let k = 0; k < ranges.length; k += stride) {
      this.map.forEachRun(ranges[k] ?? 0, ranges[k + 1] ?? 0, (s, e, w) => {
        out.push(s, e, w)
      })
    }
    return out
  }

  private restore(snapshot: RunSnapshot): void {
    for (let k = 0; k < snapshot.length; k += 3) {
      this.map.assign(snapshot[k] ?? 0, snapshot[k + 1] ?? 0, snapshot[k + 2] ?? 0)
    }
  }

  /**
   * Applies `change` to the map, plans the difference over `ranges` (sorted, disjoint page pairs
   * that cover every page `change` touches) and settles it; a dry run restores the map instead.
   */
  private mutate(
    ranges: readonly number[],
    change: () => void,
    dryRun = false,
    maxLevel: PageLevel = this.maxLevel
  ): MutationResult {
    const before = this.snapshot(ranges)
    change()
    const plan = new Plan(diffRuns(before, this.snapshot(ranges), this.tdxConnect), maxLevel)
    if (!dryRun) return this.settle(plan, before)
    this.restore(before)
    return { status: HvStatus.Success, processed: 0, plan, executed: NONE_EXECUTED }
  }

  /**
   * Runs `plan`, the change from `before` to what the map now holds, on the sink (without one, the
   * map is the only state and the plan is the answer). All-or-nothing: if the sink fails, the map
   * is restored and the sink is given the compensating plan — the minimal plan from the partial
   * hardware state back to `before`, which undoes the executed ops in reverse phase order
   * (attributes, then RELEASE, then MapGPA back).
   */
  private settle(plan: Plan, before: RunSnapshot): MutationResult {
    if (this.sink === undefined || plan.isEmpty) {
      return { status: HvStatus.Success, processed: 0, plan, executed: NONE_EXECUTED }
    }
    const options = this.busyRetries === undefined ? {} : { busyRetries: this.busyRetries }
    const run = executePlan(plan, this.sink, options)
    if (run.ok || run.failure === undefined) {
      return { status: HvStatus.Success, processed: 0, plan, executed: run.executed }
    }
    // Work out where the hardware is now, then plan the way back.
    this.restore(before)
    for (const op of run.executed) this.applyOp(op)
    const partial = this.snapshot(before, 3)
    this.restore(before)
    const undo = new Plan(diffRuns(partial, before, this.tdxConnect), plan.maxLevel)
    const back = executePlan(undo, this.sink, options)
    if (!back.ok) {
      throw new VtlError(
        'E_TDX_STATUS',
        'the sink failed while undoing a failed plan: hardware and map now disagree',
        { field: 'sink', cause: back.failure }
      )
    }
    return {
      status: SINK_FAILURE_STATUS,
      processed: 0,
      plan,
      executed: NONE_EXECUTED,
      failure: { op: run.failure.op, status: run.failure.status, undo },
    }
  }

  /** What a completed op did to the hardware-visible part of each page. */
  private applyOp(op: PlanOp): void {
    const start = Number(op.gpn)
    const end = start + (op.kind === 'map-gpa' ? Number(op.pages) : 512 ** op.level)
    const none = (w: number): number => withSlot(withSlot(w, 0, SLOT_NONE), 1, SLOT_NONE)
    this.map.update(start, end, (w) => {
      switch (op.kind) {
        case 'accept':
          return none(w | ACCEPTED)
        case 'release':
          return none(w & ~ACCEPTED)
        case 'map-gpa':
          return op.shared ? none((w | SHARED) & ~ACCEPTED) : w & ~SHARED
        case 'attr-write': {
          const old = vmAttrOfSlot(slotOf(w, op.vtl))
          const next = (op.attr & 0x8000) | (old & ~op.mask & 0x7fff) | (op.attr & op.mask)
          return withSlot(w, op.vtl, slotOfVmAttr(next))
        }
      }
    })
  }
}
