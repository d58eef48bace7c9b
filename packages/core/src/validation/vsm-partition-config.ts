import { VtlError } from '../errors/vtl-error.js'
import { HvMapGpaFlags } from '../hv/map-gpa-flags.js'
import { HvStatus } from '../hv/status.js'
import { VsmPartitionConfigCodec } from '../hv/vsm-registers.js'
import { validateVtlGpaFlags } from './gpa-flags.js'

/**
 * The VsmPartitionConfig bits a CVM guest may write: enable_vtl_protection (0), the default mask
 * (4:1), zero_memory_on_reset (5) and deny_lower_vtl_startup (6). Everything else, the intercept
 * bits included, is refused (§5.5 step 1).
 */
export const VSM_PARTITION_CONFIG_WRITABLE_BITS = 0x7fn

function checkU64(value: bigint): void {
  if (typeof value !== 'bigint' || value < 0n || value > 0xffff_ffff_ffff_ffffn) {
    throw new VtlError('E_FIELD_RANGE', 'VsmPartitionConfig must be an unsigned 64-bit bigint', {
      field: 'VsmPartitionConfig',
    })
  }
}

/** §5.5 step 1: any bit outside the writable set → InvalidRegisterValue. */
export function checkVsmPartitionConfigBits(value: bigint): HvStatus {
  checkU64(value)
  return (value & ~VSM_PARTITION_CONFIG_WRITABLE_BITS) === 0n
    ? HvStatus.Success
    : HvStatus.InvalidRegisterValue
}

/**
 * §5.5 steps 4 and 5 for a default protection mask (bits 3:0 of HvMapGpaFlags): it must pass
 * `validateVtlGpaFlags` and include both R and W. The mask has no SSS bit, so shadow-stack
 * support does not matter here.
 */
export function checkDefaultVtlProtectionMask(mask: number, mbecEnabled: boolean): HvStatus {
  if (!Number.isInteger(mask) || mask < 0 || mask > 0xf) {
    throw new VtlError('E_FIELD_RANGE', 'the default protection mask is 4 bits', {
      field: 'VsmPartitionConfig.defaultVtlProtectionMask',
    })
  }
  if (!validateVtlGpaFlags(mask, mbecEnabled, false)) return HvStatus.InvalidRegisterValue
  const rw = HvMapGpaFlags.Readable | HvMapGpaFlags.Writable
  return (mask & rw) === rw ? HvStatus.Success : HvStatus.InvalidRegisterValue
}

/**
 * The pure part of a VsmPartitionConfig write, in spec order: step 1, then steps 4–5. It skips the
 * state-dependent steps (2: VSM enabled, 3: protection cannot be cleared once on, 6: the mask
 * cannot change once protections are on), which the engine runs between them; use the two
 * functions above directly when the order against those steps matters.
 */
export function checkVsmPartitionConfigValue(value: bigint, mbecEnabled: boolean): HvStatus {
  const bits = checkVsmPartitionConfigBits(value)
  if (bits !== HvStatus.Success) return bits
  const { defaultVtlProtectionMask } = VsmPartitionConfigCodec.decode(value)
  return checkDefaultVtlProtectionMask(defaultVtlProtectionMask, mbecEnabled)
}
