import type { InitialVpContextX64 } from '../hv/initial-vp-context.js'
import { HvStatus } from '../hv/status.js'

/**
 * VMX fixed bits for an L2 guest's CR0/CR4: a bit set in `fixed0` must be 1, a bit clear in
 * `fixed1` must be 0 (IA32_VMX_CR0_FIXED0/1, CR4_FIXED0/1; OpenHCL reads CR4_FIXED1 from the kernel).
 */
export interface VmxFixedBits {
  cr0Fixed0: bigint
  cr0Fixed1: bigint
  cr4Fixed0: bigint
  cr4Fixed1: bigint
}

const CR0_PE = 1n << 0n
const CR0_NE = 1n << 5n
const CR0_PG = 1n << 31n
const EFER_NXE = 1n << 11n

/**
 * Defaults for a TD partitioning L2 VM with unrestricted guest: CR0.NE is the only fixed-1 bit, the
 * defined CR0 bits (PE MP EM TS ET NE WP AM NW CD PG) may be set; CR4 allows the bits a current
 * Intel CPU reports in CR4_FIXED1 except VMXE and SMXE, which the guest does not own.
 */
export const DEFAULT_VMX_FIXED_BITS: VmxFixedBits = {
  cr0Fixed0: CR0_NE,
  cr0Fixed1: 0xe005_003fn,
  cr4Fixed0: 0n,
  cr4Fixed1: 0x01ff_1fffn,
}

/**
 * §13.11: TDX forces EFER.NXE and the VMX fixed CR0/CR4 bits. OpenHCL finds a bad value only when
 * the target VP applies the context, and then takes the whole paravisor down. Deliberate deviation:
 * we check at call time (EnableVpVtl, StartVirtualProcessor) and refuse with InvalidRegisterValue,
 * changing nothing, so that one bad hypercall cannot kill the partition.
 */
export function checkInitialContext(context: InitialVpContextX64, fixed: VmxFixedBits): HvStatus {
  if ((context.efer & EFER_NXE) === 0n) return HvStatus.InvalidRegisterValue
  const { cr0, cr4 } = context
  if ((cr0 & fixed.cr0Fixed0) !== fixed.cr0Fixed0 || (cr0 & ~fixed.cr0Fixed1) !== 0n) {
    return HvStatus.InvalidRegisterValue
  }
  // Paging without protected mode is architecturally invalid (a VM entry failure on VMX).
  if ((cr0 & CR0_PG) !== 0n && (cr0 & CR0_PE) === 0n) return HvStatus.InvalidRegisterValue
  if ((cr4 & fixed.cr4Fixed0) !== fixed.cr4Fixed0 || (cr4 & ~fixed.cr4Fixed1) !== 0n) {
    return HvStatus.InvalidRegisterValue
  }
  return HvStatus.Success
}
