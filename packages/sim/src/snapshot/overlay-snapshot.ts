import { HvStatus, HypercallMsrBits, VtlError, type GuestVtl, type VtlState } from '@vtl/core'
import type { SimTd } from '../td/sim-td.js'
import { BIG, BIG_WORD, HEX_WORD, isRecord } from './vp-snapshot.js'

/**
 * An overlay page a VTL maps (VP assist page, SIMP, SIEFP, hypercall page; §13.14) as a snapshot
 * keeps it: the VTL's permissions unmapping gives back (null: none). They are the page's
 * permissions when it was first mapped, or the VTL's default protections set since; while mapped
 * the page's own permissions can differ (the hypercall page is read/execute-only).
 */
export interface SavedOverlay {
  vtl: GuestVtl
  gpn: string
  saved: number | null
}

/** The overlay MSRs of a VTL, keyed by their snapshot field. */
export interface OverlayMsrs {
  vpAssistPage: bigint
  'synic.simp': bigint
  'synic.siefp': bigint
  hypercallMsr: bigint
}

/** One enabled overlay MSR: the snapshot field naming it and the page it maps. */
export interface OverlayMapping {
  field: string
  vtl: GuestVtl
  gpn: bigint
}

export function overlayMsrs(state: VtlState): OverlayMsrs {
  return {
    vpAssistPage: state.vpAssistPage,
    'synic.simp': state.synic.simp,
    'synic.siefp': state.synic.siefp,
    hypercallMsr: state.hypercallMsr,
  }
}

const tagged = (v: unknown): bigint | undefined =>
  typeof v === 'string' && BIG_WORD.test(v) ? BigInt(v.slice(BIG.length)) : undefined

/** A saved VTL's overlay MSRs, or undefined when one is not a tagged bigint (validation's job). */
export function savedOverlayMsrs(vtl: unknown): OverlayMsrs | undefined {
  if (!isRecord(vtl) || !isRecord(vtl.synic)) return undefined
  const msrs = {
    vpAssistPage: tagged(vtl.vpAssistPage),
    'synic.simp': tagged(vtl.synic.simp),
    'synic.siefp': tagged(vtl.synic.siefp),
    hypercallMsr: tagged(vtl.hypercallMsr),
  }
  return Object.values(msrs).every((v) => v !== undefined) ? (msrs as OverlayMsrs) : undefined
}

/** The page an overlay MSR maps: enable in bit 0, the GPN above bit 12; undefined while disabled. */
function mappedGpn(field: keyof OverlayMsrs, msr: bigint): bigint | undefined {
  const value =
    field === 'hypercallMsr' ? msr & (HypercallMsrBits.gpn | HypercallMsrBits.enable) : msr
  return (value & 1n) === 0n ? undefined : value >> 12n
}

/** Every enabled overlay MSR of the VPs' VTLs (`vps[i][vtl]`), in the order a restore maps them. */
export function overlayMappings(
  vps: readonly (readonly (OverlayMsrs | undefined)[])[]
): OverlayMapping[] {
  const mappings: OverlayMapping[] = []
  vps.forEach((vtls, i) => {
    for (const vtl of [0, 1] as const) {
      const msrs = vtls[vtl]
      if (msrs === undefined) continue
      for (const field of Object.keys(msrs) as (keyof OverlayMsrs)[]) {
        const gpn = mappedGpn(field, msrs[field])
        if (gpn === undefined) continue
        mappings.push({ field: `vps[${String(i)}].vtls[${String(vtl)}].${field}`, vtl, gpn })
      }
    }
  })
  return mappings
}

/** One key per VTL and page. */
export const pageKey = (vtl: GuestVtl, gpn: bigint): string => `${String(vtl)}:${gpn.toString(16)}`

/** The pages `mappings` map, once per VTL and page (its first mapping), by GPN then VTL. */
export function overlayPages(mappings: readonly OverlayMapping[]): OverlayMapping[] {
  const pages = new Map<string, OverlayMapping>()
  for (const m of mappings) {
    const key = pageKey(m.vtl, m.gpn)
    if (!pages.has(key)) pages.set(key, m)
  }
  return [...pages.values()].sort((a, b) =>
    a.gpn === b.gpn ? a.vtl - b.vtl : a.gpn < b.gpn ? -1 : 1
  )
}

const tdMappings = (td: SimTd): OverlayMapping[] =>
  overlayMappings(td.engine.vps.map((vp) => vp.vtls.map(overlayMsrs)))

/** Every overlay page the TD's VPs map, with the permissions unmapping it gives back. */
export function saveOverlays(td: SimTd): SavedOverlay[] {
  return overlayPages(tdMappings(td)).map(({ vtl, gpn, field }) => {
    const saved = td.space.overlaySavedPermissions(vtl, gpn)
    if (saved === undefined) {
      throw new VtlError('E_INTERNAL', `${field} maps a page that is not an overlay`, { field })
    }
    return { vtl, gpn: `0x${gpn.toString(16)}`, saved }
  })
}

/**
 * Registers again, with the restored TD's GPA space, every overlay page its VPs map (a snapshot
 * carries the MSRs, the pages' permissions while mapped and, in `overlays`, what unmapping gives
 * back; not the space's registrations): each mapping counts once, as when the guest wrote the MSR.
 * Without it the restored space has no overlays, so its runs (and protection changes) differ from
 * the saved TD's. `overlays` must name every mapped page (validation checks it). A mapping the
 * space refuses (a page that is not private accepted RAM, or is locked) throws `E_INVALID_VALUE`
 * naming the MSR.
 */
export function restoreOverlays(td: SimTd, overlays: readonly SavedOverlay[]): void {
  const saved = new Map(overlays.map((o) => [pageKey(o.vtl, BigInt(o.gpn)), o.saved]))
  for (const { field, vtl, gpn } of tdMappings(td)) {
    const entry = saved.get(pageKey(vtl, gpn))
    const first = td.space.overlayCount(vtl, gpn) === 0
    const options = first && entry !== undefined ? { check: 0, saved: entry } : { check: 0 }
    if (td.space.registerOverlay(vtl, gpn, options).status !== HvStatus.Success) {
      throw new VtlError('E_INVALID_VALUE', `snapshot field ${field}: maps no overlay page`, {
        field,
      })
    }
  }
}

const hexWord = (v: unknown): bigint | undefined =>
  typeof v === 'string' && HEX_WORD.test(v) ? BigInt(v) : undefined

/** The first index in ascending `gpas` not below `gpa` (`gpas.length` when none). */
function lowerBound(gpas: readonly bigint[], gpa: bigint): number {
  let lo = 0
  let hi = gpas.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((gpas[mid] as bigint) < gpa) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * Each page's VTL permissions in saved runs: those of the first run (in document order) holding
 * it; null when that run has none or no run holds the page. `pages` is sorted by GPN. One pass
 * over the runs: each finds its first page by binary search, and a page once given permissions is
 * skipped (a next-unsettled pointer per page), so overlapping or unordered runs (which validation
 * refuses later) cost no more than ordered ones.
 */
function runPermissions(runs: unknown, pages: readonly OverlayMapping[]): (number | null)[] {
  const gpas = pages.map((p) => p.gpn << 12n)
  const perms: (number | null)[] = pages.map(() => null)
  const next = pages.map((_, i) => i).concat(pages.length)
  const unsettled = (i: number): number => {
    let root = i
    while (next[root] !== root) root = next[root] as number
    for (let j = i; j !== root;) {
      const after = next[j] as number
      next[j] = root
      j = after
    }
    return root
  }
  for (const run of Array.isArray(runs) ? (runs as unknown[]) : []) {
    if (!isRecord(run)) continue
    const start = hexWord(run.start)
    const end = hexWord(run.end)
    if (start === undefined || end === undefined) continue
    for (let i = unsettled(lowerBound(gpas, start)); i < pages.length; i = unsettled(i + 1)) {
      if ((gpas[i] as bigint) >= end) break
      const p = run[(pages[i] as OverlayMapping).vtl === 0 ? 'vtl0' : 'vtl1']
      perms[i] = typeof p === 'number' ? p : null
      next[i] = i + 1
    }
  }
  return perms
}

/**
 * A snapshot saved before `memory.overlays` did not keep what unmapping an overlay page gives
 * back: each page mapped then gets the permissions it has while mapped (the saved runs'), which
 * is how such a snapshot restored before. Anything malformed is left for validation to judge.
 */
export function upgradeOverlays<T extends { vps: unknown; memory: unknown }>(snapshot: T): T {
  const { memory, vps } = snapshot
  if (!isRecord(memory) || 'overlays' in memory || !Array.isArray(vps)) return snapshot
  const msrs = (vps as unknown[]).map((vp) =>
    isRecord(vp) && Array.isArray(vp.vtls) ? (vp.vtls as unknown[]).map(savedOverlayMsrs) : []
  )
  const pages = overlayPages(overlayMappings(msrs))
  const saved = runPermissions(memory.runs, pages)
  const overlays = pages.map(({ vtl, gpn }, i) => ({
    vtl,
    gpn: `0x${gpn.toString(16)}`,
    saved: saved[i] as number | null,
  }))
  return { ...snapshot, memory: { ...memory, overlays } }
}
