import { isCanonicalAddress } from './canonical.js'
import { Msr } from './msr.js'
import { EFER_VALID, PLX_SSP_RESERVED, SFMASK_RESERVED, isValidPat } from './register-bits.js'

/**
 * `validate_cvm_msr_write`: whether WRMSR of `value` to `msr` is architecturally valid for a CVM
 * guest (false: the paravisor injects #GP). FS/GS bases are checked by the caller against the live
 * paging width.
 */
export function isValidMsrWrite(msr: number, value: bigint, xssSupported: bigint): boolean {
  switch (msr) {
    case Msr.KernelGsBase:
    case Msr.Lstar:
    case Msr.Cstar:
    case Msr.SysenterEip:
    case Msr.SysenterEsp:
    case Msr.InterruptSspTableAddr:
      return isCanonicalAddress(value, 57)
    case Msr.Efer:
      return (value & ~EFER_VALID) === 0n
    case Msr.Pat:
      return isValidPat(value)
    case Msr.Sfmask:
      return (value & SFMASK_RESERVED) === 0n
    case Msr.Xss:
      return (value & ~xssSupported) === 0n
    case Msr.Pl0Ssp:
    case Msr.Pl1Ssp:
    case Msr.Pl2Ssp:
    case Msr.Pl3Ssp:
      return (value & PLX_SSP_RESERVED) === 0n && isCanonicalAddress(value, 57)
    default:
      return true
  }
}
