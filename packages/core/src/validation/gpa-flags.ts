import { VtlError } from '../errors/vtl-error.js'
import { HvMapGpaFlags } from '../hv/map-gpa-flags.js'

const R = HvMapGpaFlags.Readable
const KX = HvMapGpaFlags.KernelExecutable
const UX = HvMapGpaFlags.UserExecutable
const SSS = HvMapGpaFlags.SupervisorShadowStack
/** Every permission that is meaningless without read access. */
const NEEDS_READ =
  HvMapGpaFlags.Writable |
  KX |
  UX |
  SSS |
  HvMapGpaFlags.PagingWritability |
  HvMapGpaFlags.VerifyPagingWritability

/**
 * `validate_vtl_gpa_flags` (vsm-on-tdx.md §5.3): whether a VTL protection mask is acceptable. A
 * `false` is answered with InvalidRegisterValue by the callers (ModifyVtlProtectionMask,
 * VsmPartitionConfig). Padding bits (7–14, 16–31) are not looked at, as in OpenHCL.
 *
 * Invalid when:
 * 1. `adjustable` is set;
 * 2. KX ≠ UX, unless MBEC is on and the asymmetric case is UX without KX (KX without UX is never
 *    valid);
 * 3. W, KX, UX, SSS, paging-writability or verify-paging-writability is set without R;
 * 4. SSS is set and there is no execute bit, or shadow stacks are not enabled.
 */
export function validateVtlGpaFlags(
  flags: number,
  mbecEnabled: boolean,
  sssEnabled: boolean
): boolean {
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffff_ffff) {
    throw new VtlError('E_FIELD_RANGE', 'HvMapGpaFlags must be an unsigned 32-bit integer', {
      field: 'flags',
    })
  }
  if ((flags & HvMapGpaFlags.Adjustable) !== 0) return false
  const kx = (flags & KX) !== 0
  const ux = (flags & UX) !== 0
  if (kx !== ux && (kx || !mbecEnabled)) return false
  if ((flags & NEEDS_READ) !== 0 && (flags & R) === 0) return false
  // TLFS meaning, not OpenHCL's inverted `|| sss_enabled` (spec README: follow the TLFS there).
  // CVMs never enable shadow stacks (sss_enabled is always false), so on TDX SSS is always refused.
  if ((flags & SSS) !== 0 && (!(kx || ux) || !sssEnabled)) return false
  return true
}
