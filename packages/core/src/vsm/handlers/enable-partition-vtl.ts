import {
  encodeEnablePartitionVtl,
  enablePartitionVtlFlags,
  type EnablePartitionVtlInput,
} from '../../hv/enable-partition-vtl.js'
import { HypercallCode, HV_PARTITION_ID_SELF } from '../../hv/hypercall-code.js'
import { HV_MAP_GPA_PERMISSIONS_ALL } from '../../hv/map-gpa-flags.js'
import { HvStatus } from '../../hv/status.js'
import { parseTargetVtlFor } from '../../validation/target-vtl.js'
import type { VsmEngine } from '../engine.js'
import { forwardHypercall } from '../host-forward.js'
import { GuestVsmState, PartitionField } from '../shared-state.js'

/** What OpenHCL forwards on TDX: VTL1 on SELF with flags 0 (MBEC/SSS/HVPT are enforced locally). */
function hostInput(): Uint8Array {
  return encodeEnablePartitionVtl({
    partitionId: HV_PARTITION_ID_SELF,
    targetVtl: 1,
    flags: enablePartitionVtlFlags(),
  })
}

/**
 * HvCallEnablePartitionVtl on a hardware CVM (vsm-on-tdx.md §3). The caller's VTL is not checked.
 * Reserved flag bits and reserved_z fields are not checked either (§13.9).
 */
export function enablePartitionVtl(engine: VsmEngine, input: EnablePartitionVtlInput): HvStatus {
  // 0: the dispatcher maps a target_vtl that does not parse to AccessDenied here.
  const parsed = parseTargetVtlFor('EnablePartitionVtl', input.targetVtl)
  if (!parsed.ok) return parsed.status
  const target = parsed.vtl
  // 1
  if (input.partitionId !== HV_PARTITION_ID_SELF) return HvStatus.InvalidPartitionId
  // 2, 3: VTL2 is not a GuestVtl; VTL0 is not VTL1.
  if (target !== 1) return HvStatus.AccessDenied
  // 4
  if (input.flags.enableSupervisorShadowStack || input.flags.enableHardwareHvpt) {
    return HvStatus.InvalidParameter
  }
  const { shared } = engine
  shared.lockPartition()
  try {
    // 5, 6
    const state = engine.guestVsmState
    if (state === GuestVsmState.NotPlatformSupported) return HvStatus.AccessDenied
    if (state === GuestVsmState.Enabled) return HvStatus.InvalidVtlState
    // 7: errors from the hypervisor pass through unchanged.
    if (shared.partitionField(PartitionField.HostPartitionVtlEnabled) === 0) {
      const host = forwardHypercall(
        engine.ports.hypervisor,
        HypercallCode.EnablePartitionVtl,
        hostInput()
      )
      if (host.status !== HvStatus.Success) return host.status
      shared.setPartitionField(PartitionField.HostPartitionVtlEnabled, 1)
    }
    // 9 before 8: grant VTL1 ALL on every accepted private page. OpenHCL sets Enabled first and
    // keeps it when this sweep fails; we make the call all-or-nothing instead (spec README: no
    // rollback is "not to spec"), so a failure leaves the state NotGuestEnabled. The hypervisor
    // was already told; the flag above keeps a retry from telling it twice.
    const sweep = engine.ports.protection.changeDefaultVtlProtections(1, HV_MAP_GPA_PERMISSIONS_ALL)
    if (sweep !== HvStatus.Success) return sweep
    // 8: `CvmVtl1State::new(enable_mbec)`.
    shared.setPartitionField(PartitionField.EnabledOnAnyVp, 0)
    shared.setPartitionField(PartitionField.ZeroMemoryOnReset, 0)
    shared.setPartitionField(PartitionField.DenyLowerVtlStartup, 0)
    shared.setPartitionField(PartitionField.ShadowSupervisorStackEnabled, 0)
    shared.setPartitionField(PartitionField.MbecEnabled, input.flags.enableMbec ? 1 : 0)
    shared.setPartitionField(PartitionField.GuestVsmState, GuestVsmState.Enabled)
    return HvStatus.Success
  } finally {
    shared.unlockPartition()
  }
}
