import type { VsmVp } from '@vtl/core'
import type { TdSnapshot } from './td-snapshot.js'

/** The tag of a bigint in a snapshot's JSON. */
export const BIG = 'bigint:'

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
    vtl1: vp.vtl1 ?? null,
    shared: vp.shared,
    vtls: vp.vtls.map((v) => ({
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
    })),
  })
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** A VTL saved before guest-RAM overlays or the hypercall MSR: none mapped then. */
function upgradeVtl(v: Record<string, unknown>): Record<string, unknown> {
  return {
    ...v,
    ...('overlayPrivate' in v ? {} : { overlayPrivate: {} }),
    ...('hypercallMsr' in v ? {} : { hypercallMsr: `${BIG}0x0` }),
  }
}

/**
 * A snapshot saved before TLB-lock halts, guest-RAM overlays and the hypercall MSR (a daemon's
 * journal keeps them) has no `tlbWait` per VP and no `overlayPrivate` or `hypercallMsr` per VTL:
 * the fields are added with the values such a TD had (no waits, no overlay ever mapped), so it
 * validates and restores as then. Anything
 * else is left for validation to judge.
 */
export function upgradeSnapshot(snapshot: TdSnapshot): TdSnapshot {
  const vps: unknown = snapshot.vps
  if (!Array.isArray(vps)) return snapshot
  const upgraded = vps.map((vp: unknown) => {
    if (!isRecord(vp)) return vp
    const vtls = Array.isArray(vp.vtls)
      ? vp.vtls.map((v: unknown) => (isRecord(v) ? upgradeVtl(v) : v))
      : vp.vtls
    return 'tlbWait' in vp ? { ...vp, vtls } : { ...vp, tlbWait: [null, null], vtls }
  })
  return { ...snapshot, vps: upgraded }
}
