import { HV_PARTITION_ID_SELF } from '../../hv/hypercall-code.js'
import { HvStatus } from '../../hv/status.js'
import type { VsmEngine } from '../engine.js'
import { GuestVsmState } from '../shared-state.js'

/**
 * `HvInstallIntercept` input (24 B): partition_id u64 @0, access_type_mask u32 @8, intercept_type
 * u32 @12, intercept_parameters u64 @16 (for an IO port: the port in bits 15:0).
 */
export interface InstallInterceptInput {
  partitionId: bigint
  accessTypeMask: number
  interceptType: number
  parameters: bigint
}

export const INSTALL_INTERCEPT_SIZE = 24

/** `HvInterceptAccessType` mask bits. */
export const InterceptAccess = { Read: 1, Write: 2, Execute: 4 } as const
/** `HvInterceptType::HvInterceptTypeX64IoPort`, the only type a CVM accepts (§13.9). */
export const INTERCEPT_TYPE_X64_IO_PORT = 0

export function decodeInstallIntercept(bytes: Uint8Array): InstallInterceptInput {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return {
    partitionId: view.getBigUint64(0, true),
    accessTypeMask: view.getUint32(8, true),
    interceptType: view.getUint32(12, true),
    parameters: view.getBigUint64(16, true),
  }
}

/**
 * HvCallInstallIntercept on a CVM (§7.4, §13.9): only VTL1 may install, only IO-port intercepts
 * of read and/or write type, only while guest VSM is Enabled (InvalidVtlState). The mask *sets*
 * the port's bits in the partition's `io_read_intercepts` / `io_write_intercepts`: a direction
 * left out of the mask is removed, so mask 0 uninstalls the port (§13.16).
 */
export function installIntercept(
  engine: VsmEngine,
  callerVp: number,
  input: InstallInterceptInput
): HvStatus {
  if (input.partitionId !== HV_PARTITION_ID_SELF) return HvStatus.AccessDenied
  if (engine.vp(callerVp).exitVtl === 0) return HvStatus.AccessDenied
  if (input.interceptType !== INTERCEPT_TYPE_X64_IO_PORT) return HvStatus.InvalidParameter
  const known = InterceptAccess.Read | InterceptAccess.Write
  if ((input.accessTypeMask & ~known) !== 0) return HvStatus.InvalidParameter
  const port = Number(input.parameters & 0xffffn)
  const { shared } = engine
  shared.lockPartition()
  try {
    if (engine.guestVsmState !== GuestVsmState.Enabled) return HvStatus.InvalidVtlState
    shared.setIoIntercept(port, false, (input.accessTypeMask & InterceptAccess.Read) !== 0)
    shared.setIoIntercept(port, true, (input.accessTypeMask & InterceptAccess.Write) !== 0)
  } finally {
    shared.unlockPartition()
  }
  return HvStatus.Success
}
