import { HvRegisterName } from './register-name.js'

/**
 * The HV#1 synthetic MSRs (TLFS appendix; hvdef `HV_X64_MSR_*`) a guest reaches with RDMSR/WRMSR.
 * HV_X64_MSR_HYPERCALL lives beside the hypercall page (`hypercall-page.ts`). Only the ones the
 * engine models are listed (see `executeWrmsr`).
 */
export const HvSyntheticMsr = {
  VpIndex: 0x4000_0002,
  TimeRefCount: 0x4000_0020,
  TscFrequency: 0x4000_0022,
  VpAssistPage: 0x4000_0073,
  Scontrol: 0x4000_0080,
  Sversion: 0x4000_0081,
  Siefp: 0x4000_0082,
  Simp: 0x4000_0083,
  Eom: 0x4000_0084,
  Sint0: 0x4000_0090,
  Sint15: 0x4000_009f,
} as const

/**
 * The synthetic MSRs that are the same state as an HvRegisterName (`synic.rs` `reg_to_msr`, and
 * the VP assist page): RDMSR/WRMSR of one behaves as Get/SetVpRegisters of the other by the VTL
 * itself, except that a refusal is #GP.
 */
export function syntheticMsrRegister(msr: number): number | undefined {
  if (msr >= HvSyntheticMsr.Sint0 && msr <= HvSyntheticMsr.Sint15) {
    return HvRegisterName.Sint0 + (msr - HvSyntheticMsr.Sint0)
  }
  switch (msr) {
    case HvSyntheticMsr.VpAssistPage:
      return HvRegisterName.VpAssistPage
    case HvSyntheticMsr.Scontrol:
      return HvRegisterName.Scontrol
    case HvSyntheticMsr.Sversion:
      return HvRegisterName.Sversion
    case HvSyntheticMsr.Siefp:
      return HvRegisterName.Siefp
    case HvSyntheticMsr.Simp:
      return HvRegisterName.Simp
    case HvSyntheticMsr.Eom:
      return HvRegisterName.Eom
    default:
      return undefined
  }
}
