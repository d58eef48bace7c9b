import { HvRegisterName } from '../../hv/register-name.js'
import { HvStatus } from '../../hv/status.js'
import { isCanonicalAddress, pagingVaBits } from '../../x86/canonical.js'
import {
  CR0_HIGH_HALF,
  CR0_RESERVED_LOW,
  CR4_INVALID,
  Cr0,
  EFER_VALID,
  PLX_SSP_RESERVED,
  SFMASK_RESERVED,
  isValidPat,
} from '../../x86/register-bits.js'
import type { VtlState } from '../vp.js'

const R = HvRegisterName
const U64 = 0xffff_ffff_ffff_ffffn

/** A value SetVpRegisters may write (possibly normalised), or the status that refuses it. */
export type RegisterValueCheck = { ok: true; value: bigint } | { ok: false; status: HvStatus }

const refuse: RegisterValueCheck = { ok: false, status: HvStatus.InvalidRegisterValue }

/** Registers that must hold a canonical address for 5-level paging. */
const CANONICAL_57 = new Set<number>([
  R.SysenterEsp,
  R.SysenterEip,
  R.Lstar,
  R.Cstar,
  R.KernelGsBase,
  R.InterruptSspTableAddr,
])

/**
 * `validate_set_vp_register_value` (§13.13): runs after the access check and before the write; a
 * refused value is InvalidRegisterValue and nothing is written. CR0's reserved low bits are
 * cleared silently (the returned value is what gets written). `target` is the VTL whose register
 * is set (its EFER/CR4 decide the width FS/GS bases are checked against); `xssSupported` the XSS
 * bits the CPU's XSAVE supports.
 */
export function validateSetVpRegisterValue(
  name: number,
  value: bigint,
  target: VtlState,
  xssSupported: bigint
): RegisterValueCheck {
  const low = value & U64
  const ok: RegisterValueCheck = { ok: true, value }
  if (CANONICAL_57.has(name)) return isCanonicalAddress(low, 57) ? ok : refuse
  switch (name) {
    case R.Efer:
      return (low & ~EFER_VALID) === 0n ? ok : refuse
    case R.Pat:
      return isValidPat(low) ? ok : refuse
    case R.Sfmask:
      return (low & SFMASK_RESERVED) === 0n ? ok : refuse
    case R.Xss:
      return (low & ~xssSupported) === 0n ? ok : refuse
    case R.Pl0Ssp:
    case R.Pl1Ssp:
    case R.Pl2Ssp:
    case R.Pl3Ssp:
      return (low & PLX_SSP_RESERVED) === 0n && isCanonicalAddress(low, 57) ? ok : refuse
    case R.Fs:
    case R.Gs: {
      const { efer, cr4 } = target.registers
      return isCanonicalAddress(low, pagingVaBits(efer, cr4)) ? ok : refuse
    }
    case R.Cr0: {
      const cr0 = low & ~CR0_RESERVED_LOW
      if ((cr0 & CR0_HIGH_HALF) !== 0n) return refuse
      if ((cr0 & Cr0.PG) !== 0n && (cr0 & Cr0.PE) === 0n) return refuse
      if ((cr0 & Cr0.NW) !== 0n && (cr0 & Cr0.CD) === 0n) return refuse
      return { ok: true, value: cr0 }
    }
    case R.Cr4:
      return (low & CR4_INVALID) === 0n ? ok : refuse
    default:
      return ok
  }
}
