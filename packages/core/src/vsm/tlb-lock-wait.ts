import type { GuestVtl } from '../hv/vtl.js'
import type { VsmEngine } from './engine.js'
import type { VsmVp } from './vp.js'

/**
 * `set_wait_for_tlb_locks(vtl)` (§13.15, `hardware_cvm/tlb_lock.rs`): after a protection change
 * or a flush, record every *other* VP that holds `vtl`'s TLB lock now; the caller halts before it
 * next enters `vtl` until each of them has released it. No VP waits on itself.
 */
export function waitForTlbLocks(engine: VsmEngine, vpIndex: number, vtl: GuestVtl): void {
  const vp = engine.vp(vpIndex)
  const holders = vp.tlbWait[vtl] ?? []
  for (let other = 0; other < engine.vpCount; other++) {
    if (other !== vpIndex && engine.shared.tlbLocked(other, vtl) && !holders.includes(other)) {
      holders.push(other)
    }
  }
  vp.tlbWait[vtl] = holders.length === 0 ? undefined : holders
}

/**
 * `should_halt_for_tlb_unlock(next_vtl)` (§6.4 step 2): true while a VP recorded for the VTL about
 * to run still holds its lock; the wait ends once every recorded VP has let go.
 */
export function haltForTlbUnlock(engine: VsmEngine, vp: VsmVp): boolean {
  const vtl = vp.exitVtl
  const holders = vp.tlbWait[vtl]
  if (holders === undefined) return false
  const still = holders.filter((holder) => engine.shared.tlbLocked(holder, vtl))
  vp.tlbWait[vtl] = still.length === 0 ? undefined : still
  return still.length !== 0
}
