import type { GuestVtl } from '../hv/vtl.js'
import type { VsmEngine } from './engine.js'
import type { VsmVp } from './vp.js'

/**
 * `set_wait_for_tlb_locks(vtl)` (§13.15, `hardware_cvm/tlb_lock.rs`): after a protection change
 * or a flush, record every *other* VP that holds `vtl`'s TLB lock now, with its release count
 * then; the caller halts before it next enters `vtl` until each of them has released it once. A
 * VP already recorded is not recorded again (its first release still counts). No VP waits on
 * itself.
 */
export function waitForTlbLocks(engine: VsmEngine, vpIndex: number, vtl: GuestVtl): void {
  const vp = engine.vp(vpIndex)
  const holders = vp.tlbWait[vtl] ?? []
  const releases = vp.tlbWaitReleases[vtl] ?? []
  for (let other = 0; other < engine.vpCount; other++) {
    if (other !== vpIndex && engine.shared.tlbLocked(other, vtl) && !holders.includes(other)) {
      holders.push(other)
      releases.push(engine.shared.tlbReleases(other, vtl))
    }
  }
  vp.tlbWait[vtl] = holders.length === 0 ? undefined : holders
  vp.tlbWaitReleases[vtl] = holders.length === 0 ? undefined : releases
}

/**
 * `should_halt_for_tlb_unlock(next_vtl)` (§6.4 step 2): true while a VP recorded for the VTL about
 * to run has not released its lock since it was recorded. As in OpenHCL, where each release
 * removes the waiter's block, a holder that released and locked again no longer blocks; the wait
 * ends once every recorded VP has released. The two record arrays are compacted in place.
 */
export function haltForTlbUnlock(engine: VsmEngine, vp: VsmVp): boolean {
  const vtl = vp.exitVtl
  const holders = vp.tlbWait[vtl]
  if (holders === undefined) return false
  const releases = vp.tlbWaitReleases[vtl] ?? []
  let kept = 0
  for (let i = 0; i < holders.length; i++) {
    const holder = holders[i] as number
    const recorded = releases[i]
    if (recorded === engine.shared.tlbReleases(holder, vtl)) {
      holders[kept] = holder
      releases[kept] = recorded
      kept++
    }
  }
  holders.length = kept
  releases.length = kept
  if (kept === 0) {
    vp.tlbWait[vtl] = undefined
    vp.tlbWaitReleases[vtl] = undefined
  }
  return kept !== 0
}
