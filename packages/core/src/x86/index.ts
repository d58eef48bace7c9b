export { GPR_NAMES, type GprName } from './gpr.js'
export { isCanonicalAddress, pagingVaBits, type VaBits } from './canonical.js'
export {
  CR0_HIGH_HALF,
  CR0_RESERVED_LOW,
  CR4_INVALID,
  Cr0,
  Cr4,
  EFER_VALID,
  Efer,
  PLX_SSP_RESERVED,
  Rflags,
  SFMASK_RESERVED,
  XSS_VALID,
  isTdxEfer,
  isValidPat,
} from './register-bits.js'
export { MISC_ENABLE_VALUE, Msr, msrFromName, msrName } from './msr.js'
export {
  isValidCr0,
  movToCr0,
  movToCr4,
  type ControlState,
  type CrWriteResult,
} from './cr-write.js'
export { isValidMsrWrite } from './msr-write-rules.js'
