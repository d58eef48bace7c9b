import { PlainSharedVsmState, sharedVsmStateBytes, type VsmVp } from '@vtl/core'
import type { SlicedWork } from './sliced-work.js'
import type { TdSnapshot } from './td-snapshot.js'

/** The tag of a bigint in a snapshot's JSON. */
export const BIG = 'bigint:'
/** A well-formed tagged bigint: at most 128 bits, the widest engine value. */
export const BIG_WORD = /^bigint:0x[0-9a-f]{1,32}$/
/** A plain `0x` hex word of a snapshot (addresses, GPNs). */
export const HEX_WORD = /^0x[0-9a-f]{1,32}$/

/** JSON with bigints as tagged hex strings and typed arrays as plain arrays. */
export function encode(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') return `${BIG}0x${v.toString(16)}`
      if (v instanceof Uint32Array) return Array.from(v)
      if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('hex') }
      return v
    })
  )
}

/** One VP's saved form: the document restore reads and validation checks the shape against. */
export function saveVp(vp: VsmVp): unknown {
  return encode({
    exitVtl: vp.exitVtl,
    tlbWait: vp.tlbWait.map((w) => w ?? null),
    tlbWaitReleases: vp.tlbWaitReleases.map((w) => w ?? null),
    vtl1: vp.vtl1 ?? null,
    shared: vp.shared,
    vtls: vp.vtls.map((v) => {
      return {
        registers: v.registers,
        vpAssistPage: v.vpAssistPage,
        hypercallMsr: v.hypercallMsr,
        control: v.control,
        synic: { ...v.synic, message: v.synic.message.map((m) => m ?? null) },
        overlayPrivate: v.overlayPrivate,
        apic: {
          irr: v.apic.irr,
          isr: v.apic.isr,
          tpr: v.apic.tpr,
          nmiPending: v.apic.nmiPending,
          activity: v.apic.activity,
        },
        interruptShadow: v.interruptShadow,
      }
    }),
  })
}

/** A JSON object (not null, not an array). */
export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** A VTL saved before guest-RAM overlays or the hypercall MSR: none mapped then. */
function upgradeVtl(v: Record<string, unknown>): Record<string, unknown> {
  return {
    ...v,
    ...('overlayPrivate' in v ? {} : { overlayPrivate: {} }),
    ...('hypercallMsr' in v ? {} : { hypercallMsr: `${BIG}0x0` }),
  }
}

/** The saved cross-VP state, or undefined when it does not decode (validation refuses it then). */
function sharedState(base64: unknown, vpCount: number): PlainSharedVsmState | undefined {
  if (typeof base64 !== 'string' || vpCount < 1) return undefined
  const bytes = Buffer.from(base64, 'base64')
  if (bytes.length !== sharedVsmStateBytes(vpCount)) return undefined
  return new PlainSharedVsmState(vpCount, new Uint8Array(bytes).buffer)
}

/**
 * Waits saved before release counts existed (a holder was dropped once seen without the lock):
 * the holders that still hold it, with their counts now, which such a TD never advanced.
 */
function countedWaits(
  tlbWait: unknown,
  shared: PlainSharedVsmState | undefined
): { tlbWait: unknown; tlbWaitReleases: unknown } {
  if (!Array.isArray(tlbWait) || shared === undefined) {
    return { tlbWait, tlbWaitReleases: [null, null] }
  }
  const waits: (number[] | null)[] = []
  const releases: (number[] | null)[] = []
  tlbWait.forEach((wait: unknown, vtl) => {
    const valid = (h: unknown): h is number =>
      Number.isSafeInteger(h) && (h as number) >= 0 && (h as number) < shared.vpCount
    if (!Array.isArray(wait) || !wait.every(valid) || (vtl !== 0 && vtl !== 1)) {
      waits.push(wait as null)
      releases.push(null)
      return
    }
    const still = wait.filter((holder) => shared.tlbLocked(holder, vtl))
    waits.push(still.length === 0 ? null : still)
    releases.push(still.length === 0 ? null : still.map((h) => shared.tlbReleases(h, vtl)))
  })
  return { tlbWait: waits, tlbWaitReleases: releases }
}

/**
 * A snapshot saved before TLB-lock halts, their release counts, guest-RAM overlays and the
 * hypercall MSR (a daemon's journal keeps them) has no `tlbWait`/`tlbWaitReleases` per VP and no
 * `overlayPrivate` or `hypercallMsr` per VTL: the fields are added with the values such a TD had
 * (no waits, no overlay ever mapped), so it validates and restores as then (`upgradeOverlays`
 * then adds `memory.overlays`). Anything else is left for validation to judge. Sliced work: it
 * yields after each VP.
 */
export function* upgradeSnapshot(snapshot: TdSnapshot): SlicedWork<TdSnapshot> {
  const vps: unknown = snapshot.vps
  if (!Array.isArray(vps)) return snapshot
  const shared = sharedState(snapshot.shared, vps.length)
  const upgraded: unknown[] = []
  for (const vp of vps as unknown[]) {
    upgraded.push(upgradeVp(vp, shared))
    yield
  }
  return { ...snapshot, vps: upgraded }
}

function upgradeVp(vp: unknown, shared: PlainSharedVsmState | undefined): unknown {
  if (!isRecord(vp)) return vp
  const vtls = Array.isArray(vp.vtls)
    ? vp.vtls.map((v: unknown) => (isRecord(v) ? upgradeVtl(v) : v))
    : vp.vtls
  if (!('tlbWait' in vp))
    return { ...vp, tlbWait: [null, null], tlbWaitReleases: [null, null], vtls }
  if ('tlbWaitReleases' in vp) return { ...vp, vtls }
  return { ...vp, ...countedWaits(vp.tlbWait, shared), vtls }
}
