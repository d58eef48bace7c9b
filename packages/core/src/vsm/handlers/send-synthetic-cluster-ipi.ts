import { HypercallCode } from '../../hv/hypercall-code.js'
import { decodeHvInputVtl } from '../../hv/input-vtl.js'
import { HvStatus } from '../../hv/status.js'
import type { VsmEngine } from '../engine.js'
import { WakeReason } from '../shared-state.js'
import { readVpSet, vpsFromMask } from './vp-set.js'

/** 0x000B input: vector u32 @0, target_vtl u8 @4 (HvInputVtl), flags u8 @5, rsvd, mask u64 @8. */
export const SEND_IPI_INPUT_SIZE = 16
/** 0x0015 fixed input: vector, target_vtl, flags, rsvd, then HvVpSet format @8 and bank mask @16. */
export const SEND_IPI_EX_INPUT_SIZE = 24

/**
 * HvCallSendSyntheticClusterIpi(Ex) (§13.10). Only VTL0 targets are delivered: from VTL1 to its
 * own VTL → InvalidVtlState; from VTL0 to VTL1 → AccessDenied (no target above the caller). The
 * vector is requested for each target's VTL0 APIC (merged when the target next prepares an entry)
 * and the target woken; nothing in VTL1 is
 * preempted (VINA may then fire on a VP that runs VTL1, as for any VTL0 interrupt).
 */
export function sendSyntheticClusterIpi(
  engine: VsmEngine,
  callerVp: number,
  code: number,
  input: Uint8Array
): HvStatus {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength)
  const vector = view.getUint32(0, true)
  const inputVtl = decodeHvInputVtl(view.getUint8(4))
  if (!inputVtl.ok) return HvStatus.InvalidParameter
  const callerVtl = engine.vp(callerVp).exitVtl
  const target = inputVtl.target ?? callerVtl
  if (target > callerVtl) return HvStatus.AccessDenied
  if (target !== 0) return HvStatus.InvalidVtlState
  if (vector < 16 || vector > 255) return HvStatus.InvalidParameter
  let vps: number[]
  if (code === HypercallCode.SendSyntheticClusterIpiEx) {
    const set = readVpSet(view, 8, engine.vpCount)
    if (set === undefined) return HvStatus.InvalidParameter
    vps = set === 'all' ? engine.vps.map((vp) => vp.index) : set
  } else {
    vps = vpsFromMask(view.getBigUint64(8, true), engine.vpCount)
  }
  // Through the shared request words: another VP's LAPIC belongs to that VP's thread.
  for (const vp of vps) {
    engine.shared.requestInterrupt(vp, 0, vector)
    if (engine.shared.wake(vp, 0, WakeReason.Intcon) && vp !== callerVp) engine.ports.vp.wakeVp(vp)
  }
  return HvStatus.Success
}
