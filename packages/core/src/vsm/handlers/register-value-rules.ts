import { HvRegisterName } from '../../hv/register-name.js'
import { HvStatus } from '../../hv/status.js'
import { isCanonicalAddress, pagingVaBits } from '../../x86/canonical.js'
import { Msr } from '../../x86/msr.js'
import { isValidMsrWrite } from '../../x86/msr-write-rules.js'
import { isValidCr0 } from '../../x86/cr-write.js'
import { CR0_RESERVED_LOW, CR4_INVALID } from '../../x86/register-bits.js'
import type { VtlState } from '../vp.js'

const R = HvRegisterName
const U64 = 0xffff_ffff_ffff_ffffn

/** A value SetVpRegisters may write (possibly normalised), or the status that refuses it. */
export type RegisterValueCheck = { ok: true; value: bigint } | { ok: false; status: HvStatus }

const refuse: RegisterValueCheck = { ok: false, status: HvStatus.InvalidRegisterValue }

/** Registers that are MSRs: their values follow WRMSR's rules (`validate_cvm_msr_write`). */
const MSR_OF_REGISTER = new Map<number, number>([
  [R.SysenterEsp, Msr.SysenterEsp],
  [R.SysenterEip, Msr.SysenterEip],
  [R.Lstar, Msr.Lstar],
  [R.Cstar, Msr.Cstar],
  [R.KernelGsBase, Msr.KernelGsBase],
  [R.InterruptSspTableAddr, Msr.InterruptSspTableAddr],
  [R.Efer, Msr.Efer],
  [R.Pat, Msr.Pat],
  [R.Sfmask, Msr.Sfmask],
  [R.Xss, Msr.Xss],
  [R.Pl0Ssp, Msr.Pl0Ssp],
  [R.Pl1Ssp, Msr.Pl1Ssp],
  [R.Pl2Ssp, Msr.Pl2Ssp],
  [R.Pl3Ssp, Msr.Pl3Ssp],
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
  const msr = MSR_OF_REGISTER.get(name)
  if (msr !== undefined) return isValidMsrWrite(msr, low, xssSupported) ? ok : refuse
  switch (name) {
    case R.Fs:
    case R.Gs: {
      const { efer, cr4 } = target.registers
      return isCanonicalAddress(low, pagingVaBits(efer, cr4)) ? ok : refuse
    }
    case R.Cr0: {
      const cr0 = low & ~CR0_RESERVED_LOW
      return isValidCr0(cr0) ? { ok: true, value: cr0 } : refuse
    }
    case R.Cr4:
      return (low & CR4_INVALID) === 0n ? ok : refuse
    default:
      return ok
  }
}
