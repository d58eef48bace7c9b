// The TDX completion codes this package reacts to. Kept in this one file so that switching to
// @vtl/core's `TdxStatus` / `tdxStatusCode` (tdx/completion-status.ts) is a one-line change.

/** RAX[63:32] values (abi.md §3.2). */
export const TDX_SUCCESS = 0x0000_0000
export const TDX_OPERAND_BUSY = 0x8000_0200
export const TDX_PAGE_ALREADY_ACCEPTED = 0x0000_0b0a
export const TDX_PAGE_SIZE_MISMATCH = 0xc000_0b0b
export const TDX_EPT_ENTRY_NOT_PRESENT = 0xc000_0b03
export const TDX_OPERAND_INVALID = 0xc000_0100

/** The completion code of a TDCALL's RAX: bits 63:32. */
export function tdxStatusCode(rax: bigint): number {
  return Number((rax >> 32n) & 0xffff_ffffn)
}

/** A RAX value carrying `code` in bits 63:32. */
export function makeTdxStatus(code: number, details = 0): bigint {
  return (BigInt(code >>> 0) << 32n) | BigInt(details >>> 0)
}

/** TDCALL leaves used by plans (RAX bits 15:0; abi.md §3.1). */
export const LEAF_TDG_VP_VMCALL = 0
export const LEAF_TDG_MEM_PAGE_ACCEPT = 6
export const LEAF_TDG_MEM_PAGE_ATTR_WR = 24
export const LEAF_TDG_MEM_PAGE_RELEASE = 30
/** TDG.VP.VMCALL sub-function MapGPA (R11; GHCI). */
export const TDVMCALL_MAP_GPA = 0x10001
