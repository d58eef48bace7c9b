import { HvStatus } from '../../hv/status.js'
import type { GuestVtl } from '../../hv/vtl.js'
import { VsmPartitionConfigCodec } from '../../hv/vsm-registers.js'
import {
  checkDefaultVtlProtectionMask,
  checkVsmPartitionConfigBits,
} from '../../validation/vsm-partition-config.js'
import type { VsmEngine } from '../engine.js'
import { GuestVsmState, PartitionField } from '../shared-state.js'

/**
 * Access rule shared by reads and writes (§5.5): a VTL0 caller without `access_vsm` is refused,
 * and the register belongs to VTL1 (any other target VTL is InvalidParameter).
 */
export function checkVsmPartitionConfigAccess(
  engine: VsmEngine,
  callerVtl: GuestVtl,
  targetVtl: GuestVtl
): HvStatus {
  if (callerVtl === 0 && !engine.accessVsmPrivilege) return HvStatus.AccessDenied
  if (targetVtl !== 1) return HvStatus.InvalidParameter
  return HvStatus.Success
}

/** `set_vsm_partition_config` (§5.5), after the access checks, in its order. */
export function setVsmPartitionConfig(engine: VsmEngine, value: bigint): HvStatus {
  // 1
  const bits = checkVsmPartitionConfigBits(value)
  if (bits !== HvStatus.Success) return bits
  const config = VsmPartitionConfigCodec.decode(value)
  const { shared } = engine
  shared.lockPartition()
  try {
    // 2
    if (engine.guestVsmState !== GuestVsmState.Enabled) return HvStatus.InvalidVtlState
    const protectionsEnabled = shared.partitionField(PartitionField.Vtl1ProtectionsEnabled) !== 0
    // 3: protection cannot be turned off once on.
    if (!config.enableVtlProtection && protectionsEnabled) return HvStatus.InvalidRegisterValue
    // 4, 5
    const mbec = shared.partitionField(PartitionField.MbecEnabled) !== 0
    const mask = config.defaultVtlProtectionMask
    const maskStatus = checkDefaultVtlProtectionMask(mask, mbec)
    if (maskStatus !== HvStatus.Success) return maskStatus
    // 6: the defaults land on VTL0 on a CVM; they cannot change once protections are on.
    if (mask !== shared.partitionField(PartitionField.DefaultVtl0Protections)) {
      if (protectionsEnabled) return HvStatus.InvalidRegisterValue
      const status = engine.ports.protection.changeDefaultVtlProtections(0, mask)
      if (status !== HvStatus.Success) return status
      shared.setPartitionField(PartitionField.DefaultVtl0Protections, mask)
    }
    // 7: OpenHCL marks protections enabled even with bit 0 clear ("not to spec"); TLFS meaning here.
    if (config.enableVtlProtection)
      shared.setPartitionField(PartitionField.Vtl1ProtectionsEnabled, 1)
    // 8
    shared.setPartitionField(PartitionField.ZeroMemoryOnReset, config.zeroMemoryOnReset ? 1 : 0)
    shared.setPartitionField(PartitionField.DenyLowerVtlStartup, config.denyLowerVtlStartup ? 1 : 0)
    return HvStatus.Success
  } finally {
    shared.unlockPartition()
  }
}

/** The register as read (§5.5): 0 until VSM is Enabled. */
export function getVsmPartitionConfig(engine: VsmEngine): bigint {
  if (engine.guestVsmState !== GuestVsmState.Enabled) return 0n
  return VsmPartitionConfigCodec.encode({
    enableVtlProtection: engine.flag(PartitionField.Vtl1ProtectionsEnabled),
    defaultVtlProtectionMask: engine.field(PartitionField.DefaultVtl0Protections),
    zeroMemoryOnReset: engine.flag(PartitionField.ZeroMemoryOnReset),
    denyLowerVtlStartup: engine.flag(PartitionField.DenyLowerVtlStartup),
  })
}
