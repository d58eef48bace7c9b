import { HV_PARTITION_ID_SELF } from '../../hv/hypercall-code.js'
import { encodeInitialVpContextX64 } from '../../hv/initial-vp-context.js'
import type { StartVirtualProcessorInput } from '../../hv/start-virtual-processor.js'
import { HvStatus } from '../../hv/status.js'
import { parseTargetVtlFor } from '../../validation/target-vtl.js'
import type { VsmEngine } from '../engine.js'
import { checkInitialContext } from '../initial-context-check.js'
import { PartitionField, PendingOperation, WakeReason } from '../shared-state.js'

/**
 * HvCallStartVirtualProcessor on a hardware CVM (vsm-on-tdx.md §4.5). Repeated starts are refused
 * (the `started` compare-exchange), although the hypervisor would treat one like an INIT.
 */
export function startVirtualProcessor(
  engine: VsmEngine,
  callerVp: number,
  input: StartVirtualProcessorInput,
  rawContext?: Uint8Array
): HvStatus {
  const callerVtl = engine.vp(callerVp).exitVtl
  // The raw target_vtl byte must name VTL0, 1 or 2 (hvdef's Vtl parse → InvalidParameter).
  const parsed = parseTargetVtlFor('StartVirtualProcessor', input.targetVtl)
  if (!parsed.ok) return parsed.status
  const vtl = parsed.vtl
  if (input.partitionId !== HV_PARTITION_ID_SELF) return HvStatus.InvalidPartitionId
  // HV_VP_INDEX_SELF is deliberately not resolved: a VP cannot start itself.
  const targetVp = input.vpIndex
  if (targetVp === callerVp || targetVp >= engine.vpCount) return HvStatus.InvalidVpIndex
  // `target_vtl_no_higher`
  if (vtl > callerVtl) return HvStatus.AccessDenied
  const targetVtl = vtl as 0 | 1
  const { shared } = engine
  if (targetVtl === 1) {
    shared.lockVp(targetVp)
    const enabled = shared.vtl1EnableCalled(targetVp)
    shared.unlockVp(targetVp)
    if (!enabled) return HvStatus.InvalidVpState
  }
  // Guest VSM is Enabled whenever this flag can be set, so reading it unlocked is safe.
  if (callerVtl === 0 && shared.partitionField(PartitionField.DenyLowerVtlStartup) !== 0) {
    return HvStatus.AccessDenied
  }
  // §13.11 (deliberate deviation, see initial-context-check.ts); before the CAS, which is an effect.
  const contextStatus = checkInitialContext(input.context, engine.fixedBits)
  if (contextStatus !== HvStatus.Success) return contextStatus
  // The guest's own 224 bytes when the dispatcher has them: no need to encode them again.
  const queued = rawContext ?? encodeInitialVpContextX64(input.context)
  if (!shared.compareExchangeStarted(targetVp, false, true)) return HvStatus.InvalidVpState
  shared.setPendingContext(targetVp, targetVtl, PendingOperation.StartVp, queued)
  if (shared.wake(targetVp, targetVtl, WakeReason.HvStartEnableVtlVp)) {
    engine.ports.vp.wakeVp(targetVp)
  }
  return HvStatus.Success
}
