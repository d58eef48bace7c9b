import { VtlError } from '../../errors/vtl-error.js'
import { encodeEnableVpVtl, type EnableVpVtlInput } from '../../hv/enable-vp-vtl.js'
import { HypercallCode, HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF } from '../../hv/hypercall-code.js'
import { encodeInitialVpContextX64, zeroInitialVpContextX64 } from '../../hv/initial-vp-context.js'
import { HvStatus } from '../../hv/status.js'
import { parseTargetVtlFor } from '../../validation/target-vtl.js'
import type { VsmEngine } from '../engine.js'
import { forwardHypercall } from '../host-forward.js'
import { checkInitialContext } from '../initial-context-check.js'
import { GuestVsmState, PartitionField, PendingOperation, WakeReason } from '../shared-state.js'

// The host input depends only on the target VP; built once per VP (ports must not modify input).
const hostInputs: Uint8Array[] = []

/** On TDX the hypervisor gets an all-zero context: VTL2 applies the real one itself (§4.1 step 8). */
function hostInput(targetVp: number): Uint8Array {
  return (hostInputs[targetVp] ??= encodeEnableVpVtl({
    partitionId: HV_PARTITION_ID_SELF,
    vpIndex: targetVp,
    targetVtl: 1,
    context: zeroInitialVpContextX64(),
  }))
}

/**
 * HvCallEnableVpVtl on a hardware CVM (vsm-on-tdx.md §4.1), issued by `callerVp` in its current
 * VTL. On success the target is EnableCalled: the context is queued and the target woken; it turns
 * Active when the target handles the wake (`handleWake`).
 */
export function enableVpVtl(
  engine: VsmEngine,
  callerVp: number,
  input: EnableVpVtlInput,
  rawContext?: Uint8Array
): HvStatus {
  const callerVtl = engine.vp(callerVp).exitVtl
  // 0: a target_vtl byte that does not parse.
  const parsed = parseTargetVtlFor('EnableVpVtl', input.targetVtl)
  if (!parsed.ok) return parsed.status
  const vtl = parsed.vtl
  // 1: HV_VP_INDEX_SELF means the caller (PR #4161).
  const targetVp = input.vpIndex === HV_VP_INDEX_SELF ? callerVp : input.vpIndex
  // 2, 3, 4
  if (input.partitionId !== HV_PARTITION_ID_SELF) return HvStatus.InvalidPartitionId
  if (targetVp >= engine.vpCount) return HvStatus.InvalidVpIndex
  if (vtl !== 1) return HvStatus.InvalidParameter

  const { shared } = engine
  // 5: the partition lock; on the VTL0 path it stays held until the target is marked (§4.1 notes).
  shared.lockPartition()
  let partitionLocked = true
  try {
    if (engine.guestVsmState !== GuestVsmState.Enabled) return HvStatus.InvalidVtlState
    const enabledOnAnyVp = shared.partitionField(PartitionField.EnabledOnAnyVp) !== 0
    if (callerVtl === 0) {
      // 6a: VTL0 may enable VTL1 once, only on itself, only as the first VP.
      if (enabledOnAnyVp || targetVp !== callerVp) return HvStatus.AccessDenied
    } else {
      // 6b: VTL1 runs somewhere, so some VP enabled it from VTL0.
      if (!enabledOnAnyVp) {
        throw new VtlError('E_INVARIANT', 'VTL1 is running but enabled_on_any_vp is false')
      }
      shared.unlockPartition()
      partitionLocked = false
    }
    // 7
    shared.lockVp(targetVp)
    try {
      if (shared.vtl1EnableCalled(targetVp)) return HvStatus.VtlAlreadyEnabled
      // §13.11, checked here so that every earlier row keeps OpenHCL's status.
      const contextStatus = checkInitialContext(input.context, engine.fixedBits)
      if (contextStatus !== HvStatus.Success) return contextStatus
      // The guest's own 224 bytes when the dispatcher has them: no need to encode them again.
      const queued = rawContext ?? encodeInitialVpContextX64(input.context)
      // 8, 9
      const host = forwardHypercall(
        engine.ports.hypervisor,
        HypercallCode.EnableVpVtl,
        hostInput(targetVp)
      )
      if (host.status !== HvStatus.Success) return host.status
      // 10, 11, 12: cannot fail from here.
      if (callerVtl === 0) shared.setPartitionField(PartitionField.EnabledOnAnyVp, 1)
      shared.setVtl1EnableCalled(targetVp, true)
      shared.setPendingContext(targetVp, 1, PendingOperation.EnableVpVtl, queued)
      if (shared.wake(targetVp, 1, WakeReason.HvStartEnableVtlVp)) engine.ports.vp.wakeVp(targetVp)
      return HvStatus.Success
    } finally {
      shared.unlockVp(targetVp)
    }
  } finally {
    if (partitionLocked) shared.unlockPartition()
  }
}
