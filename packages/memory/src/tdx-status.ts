// The TDX completion codes and TDCALL leaves this package uses, taken from @vtl/core in this one
// place so the rest of the package reads as plain constants.
import { TdcallLeaf, TdxStatus } from '@vtl/core'

export { makeTdxStatus, tdxStatusCode } from '@vtl/core'

/** RAX[63:32] values (abi.md §3.2). */
export const TDX_SUCCESS = TdxStatus.TDX_SUCCESS
export const TDX_OPERAND_BUSY = TdxStatus.TDX_OPERAND_BUSY
export const TDX_PAGE_ALREADY_ACCEPTED = TdxStatus.TDX_PAGE_ALREADY_ACCEPTED
export const TDX_PAGE_SIZE_MISMATCH = TdxStatus.TDX_PAGE_SIZE_MISMATCH
export const TDX_EPT_ENTRY_NOT_PRESENT = TdxStatus.TDX_EPT_ENTRY_NOT_PRESENT
export const TDX_OPERAND_INVALID = TdxStatus.TDX_OPERAND_INVALID

/** TDCALL leaves used by plans (RAX bits 15:0; abi.md §3.1). */
export const LEAF_TDG_VP_VMCALL = TdcallLeaf['TDG.VP.VMCALL']
export const LEAF_TDG_MEM_PAGE_ACCEPT = TdcallLeaf['TDG.MEM.PAGE.ACCEPT']
export const LEAF_TDG_MEM_PAGE_ATTR_WR = TdcallLeaf['TDG.MEM.PAGE.ATTR.WR']
export const LEAF_TDG_MEM_PAGE_RELEASE = TdcallLeaf['TDG.MEM.PAGE.RELEASE']
/** TDG.VP.VMCALL sub-function MapGPA (R11; GHCI, abi.md §3.1). */
export const TDVMCALL_MAP_GPA = 0x10001
