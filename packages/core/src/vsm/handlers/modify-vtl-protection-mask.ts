import { HV_PARTITION_ID_SELF } from '../../hv/hypercall-code.js'
import { decodeHvInputVtl } from '../../hv/input-vtl.js'
import type { ModifyVtlProtectionMaskHeader } from '../../hv/modify-vtl-protection-mask.js'
import { HvStatus } from '../../hv/status.js'
import { validateVtlGpaFlags } from '../../validation/gpa-flags.js'
import type { VsmEngine } from '../engine.js'
import { GuestVsmState, PartitionField } from '../shared-state.js'
import { waitForTlbLocks } from '../tlb-lock-wait.js'
import type { RepResult } from './rep-result.js'

const refused = (status: HvStatus): RepResult => ({ status, processed: 0 })

/**
 * HvCallModifyVtlProtectionMask on a hardware CVM (vsm-on-tdx.md §5.4). `gpns` are the elements
 * from rep start on. The rep error index is always 0: every GPN is checked before any is applied.
 * On a CVM the permissions land on VTL0 (§12.5): VTL1 protects memory *from* VTL0.
 */
export function modifyVtlProtectionMask(
  engine: VsmEngine,
  callerVp: number,
  header: ModifyVtlProtectionMaskHeader,
  gpns: readonly bigint[]
): RepResult {
  const callerVtl = engine.vp(callerVp).exitVtl
  // 0: HvInputVtl parses before the partition id is looked at (§13.9).
  const inputVtl = decodeHvInputVtl(header.targetVtl)
  if (!inputVtl.ok) return refused(HvStatus.InvalidParameter)
  // 1
  if (header.partitionId !== HV_PARTITION_ID_SELF) return refused(HvStatus.AccessDenied)
  // 2: `target_vtl_no_higher`
  const target = inputVtl.target ?? callerVtl
  if (target > callerVtl) return refused(HvStatus.AccessDenied)
  // 3
  if (target === 0) return refused(HvStatus.InvalidParameter)
  const { shared } = engine
  // 4: VTL1 must have written VsmPartitionConfig before changing its own protections.
  if (target === callerVtl && shared.partitionField(PartitionField.Vtl1ProtectionsEnabled) === 0) {
    return refused(HvStatus.AccessDenied)
  }
  // 5..7 under the partition lock (a read lock in OpenHCL).
  shared.lockPartition()
  try {
    if (engine.guestVsmState !== GuestVsmState.Enabled) return refused(HvStatus.InvalidVtlState)
    const mbec = shared.partitionField(PartitionField.MbecEnabled) !== 0
    const sss = shared.partitionField(PartitionField.ShadowSupervisorStackEnabled) !== 0
    if (!validateVtlGpaFlags(header.mapFlags, mbec, sss)) {
      return refused(HvStatus.InvalidRegisterValue)
    }
    const status = engine.ports.protection.changeVtlProtections(0, gpns, header.mapFlags)
    if (status !== HvStatus.Success) return { status, processed: 0 }
    // VTL0's TLBs must not keep the old permissions: wait for VPs that hold VTL0's lock (§13.15).
    waitForTlbLocks(engine, callerVp, 0)
    return { status, processed: gpns.length }
  } finally {
    shared.unlockPartition()
  }
}
