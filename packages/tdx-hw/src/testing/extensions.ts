import { MshvCapability } from '../uapi/mshv-requests.js'

/** What `MSHV_CHECK_EXTENSION` answers for each extension id; ids not listed → -EOPNOTSUPP. */
export type SimExtensionTable = Readonly<Record<number, number>>

export interface TdxExtensionOptions {
  /** `DR6_SHARED`: whether the kernel reports DR6 as shared between VTLs (default false). */
  readonly dr6Shared?: boolean
}

/**
 * The answers of a TDX OpenHCL (fork) kernel (abi.md §1.3): CORE_API_STABLE returns 0, no
 * hypervisor register page on a CVM, no VTL return actions (VsmCapabilities.return_action_available
 * is 0 on TDX, vsm-on-tdx.md §13), DR6_SHARED as configured, LOWER_VTL_TIMER_VIRT 1 on TDX.
 */
export function tdxOpenHclExtensions(options: TdxExtensionOptions = {}): SimExtensionTable {
  return {
    [MshvCapability.CORE_API_STABLE]: 0,
    [MshvCapability.REGISTER_PAGE]: 0,
    [MshvCapability.VTL_RETURN_ACTION]: 0,
    [MshvCapability.DR6_SHARED]: options.dr6Shared === true ? 1 : 0,
    [MshvCapability.LOWER_VTL_TIMER_VIRT]: 1,
  }
}
