import { HvStatus, HypercallMsrBits, VtlError, type GuestVtl, type VtlState } from '@vtl/core'
import type { SimTd } from '../td/sim-td.js'

/** The overlay MSRs of a VTL, with the page each maps (undefined while disabled). */
function mappedOverlays(state: VtlState): [string, bigint | undefined][] {
  const page = (msr: bigint): bigint | undefined => ((msr & 1n) === 0n ? undefined : msr >> 12n)
  return [
    ['vpAssistPage', page(state.vpAssistPage)],
    ['synic.simp', page(state.synic.simp)],
    ['synic.siefp', page(state.synic.siefp)],
    ['hypercallMsr', page(state.hypercallMsr & (HypercallMsrBits.gpn | HypercallMsrBits.enable))],
  ]
}

/**
 * Registers again, with the restored TD's GPA space, every overlay page its VPs map (a snapshot
 * carries the MSRs and the pages' permissions, not the space's registrations): the pages keep the
 * permissions their runs were restored with, each mapping counts once, as when the guest wrote the
 * MSR. Without it the restored space has no overlays, so its runs (and protection changes) differ
 * from the saved TD's. A mapping the space refuses (a page that is not private accepted RAM, or is
 * locked) throws `E_INVALID_VALUE` naming the MSR.
 */
export function restoreOverlays(td: SimTd): void {
  const { protection, guestMemory } = td.engine.ports
  if (guestMemory === undefined || protection.registerOverlay === undefined) return
  for (const [i, vp] of td.engine.vps.entries()) {
    for (const vtl of [0, 1] as const satisfies readonly GuestVtl[]) {
      for (const [name, gpn] of mappedOverlays(vp.vtls[vtl])) {
        if (gpn === undefined) continue
        if (protection.registerOverlay(vtl, gpn, { check: 0 }).status !== HvStatus.Success) {
          const field = `vps[${String(i)}].vtls[${String(vtl)}].${name}`
          throw new VtlError('E_INVALID_VALUE', `snapshot field ${field}: maps no overlay page`, {
            field,
          })
        }
      }
    }
  }
}
