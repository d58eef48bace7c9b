import type { InitialVpContextX64 } from '../hv/initial-vp-context.js'
import { HvStatus } from '../hv/status.js'
import { isTdxEfer } from '../x86/register-bits.js'

/**
 * The modelled CPU's VMX fixed bits that OpenHCL's TDX state access reads: only
 * IA32_VMX_CR4_FIXED1 (`read_vmx_cr4_fixed1`) constrains what a lower VTL may hold in CR4.
 */
export interface VmxFixedBits {
  cr4Fixed1: bigint
}

/** A current Intel CPU's CR4_FIXED1: bits 0–12 and 16–24 (includes every bit of the CR4 mask). */
export const DEFAULT_VMX_FIXED_BITS: VmxFixedBits = { cr4Fixed1: 0x01ff_1fffn }

/**
 * CR4 bits a lower VTL owns on TDX (VME PVI TSD DE PSE PAE PGE PCE OSFXSR OSXMMEXCPT UMIP LA57
 * FSGSBASE PCIDE OSXSAVE SMEP SMAP CET) plus MCE: OpenHCL's `cr4_allowed_bits` before the
 * CR4_FIXED1 intersection. KL, PKE, PKS, VMXE and SMXE are not in it.
 */
export const CR4_GUEST_OWNED_AND_MCE = 0x00b7_1fffn

/** The CR4 bits a lower VTL may set: `(guest-owned ∪ MCE) ∩ CR4_FIXED1`. */
export function cr4AllowedBits(fixed: VmxFixedBits): bigint {
  return CR4_GUEST_OWNED_AND_MCE & fixed.cr4Fixed1
}

/**
 * §13.11: the rules OpenHCL's TDX `set_registers` applies to an initial context (`write_efer`,
 * `write_cr0`, `write_cr4`): EFER needs NXE and refuses SVME and FFXSR; CR0 takes any value (ET
 * is forced, NE is host-owned, PG without PE is SetVpRegisters' rule, not this one); CR4 only the
 * allowed bits. Segments, tables, CR3, RIP/RSP/RFLAGS are not checked.
 *
 * Deviation: OpenHCL finds a bad value only when the target VP applies the context and then takes
 * the whole paravisor down; we check at call time (EnableVpVtl, StartVirtualProcessor) and refuse
 * with InvalidRegisterValue, changing nothing, so that one bad hypercall cannot kill the partition.
 */
export function checkInitialContext(context: InitialVpContextX64, fixed: VmxFixedBits): HvStatus {
  const { efer, cr4 } = context
  if (!isTdxEfer(efer)) return HvStatus.InvalidRegisterValue
  if ((cr4 & ~cr4AllowedBits(fixed)) !== 0n) return HvStatus.InvalidRegisterValue
  return HvStatus.Success
}
