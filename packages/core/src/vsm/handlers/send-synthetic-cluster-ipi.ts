import { HypercallCode } from '../../hv/hypercall-code.js'
import { decodeHvInputVtl } from '../../hv/input-vtl.js'
import { HvStatus } from '../../hv/status.js'
import type { VsmEngine } from '../engine.js'
import { WakeReason } from '../shared-state.js'
import { readVpSet, vpsFromMask } from './vp-set.js'

/** 0x000B input: vector u32 @0, target_vtl u8 @4 (HvInputVtl), flags u8 @5, rsvd u16 @6, mask u64 @8. */
export const SEND_IPI_INPUT_SIZE = 16
/** 0x0015 fixed input: vector, target_vtl, flags, rsvd, then HvVpSet format @8 and bank mask @16. */
export const SEND_IPI_EX_INPUT_SIZE = 24

/**
 * HvCallSendSyntheticClusterIpi(Ex) (§13.10, §13.17). The dispatcher's checks come first (reserved
 * u16, the Ex set's format and bank words, HvInputVtl → InvalidParameter), then the handler's:
 * flags non-zero → InvalidParameter, a target above the caller → AccessDenied, a VTL1 target →
 * InvalidVtlState, a vector outside 16..255 → InvalidParameter. The vector is requested for each
 * existing target's VTL0 APIC (merged when the target next prepares an entry) and the target
 * woken; VP indexes that do not exist are skipped and an empty set is Success (unlike a flush).
 * Nothing in VTL1 is preempted (VINA may then fire on a VP that runs VTL1, as for any VTL0
 * interrupt).
 */
export function sendSyntheticClusterIpi(
  engine: VsmEngine,
  callerVp: number,
  code: number,
  input: Uint8Array
): HvStatus {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength)
  if (view.getUint16(6, true) !== 0) return HvStatus.InvalidParameter
  const vps =
    code === HypercallCode.SendSyntheticClusterIpiEx
      ? readVpSet(view, 8)
      : vpsFromMask(view.getBigUint64(8, true))
  if (vps === undefined) return HvStatus.InvalidParameter
  const inputVtl = decodeHvInputVtl(view.getUint8(4))
  if (!inputVtl.ok) return HvStatus.InvalidParameter
  if (view.getUint8(5) !== 0) return HvStatus.InvalidParameter
  const callerVtl = engine.vp(callerVp).exitVtl
  const target = inputVtl.target ?? callerVtl
  if (target > callerVtl) return HvStatus.AccessDenied
  if (target !== 0) return HvStatus.InvalidVtlState
  const vector = view.getUint32(0, true)
  if (vector < 16 || vector > 255) return HvStatus.InvalidParameter
  // Through the shared request words: another VP's LAPIC belongs to that VP's thread.
  for (const vp of vps) {
    if (vp >= engine.vpCount) continue
    engine.shared.requestInterrupt(vp, 0, vector)
    if (engine.shared.wake(vp, 0, WakeReason.Intcon) && vp !== callerVp) engine.ports.vp.wakeVp(vp)
  }
  return HvStatus.Success
}
