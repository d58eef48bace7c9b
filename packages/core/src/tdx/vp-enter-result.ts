import { TdxStatus } from './completion-status.js'
import { checkU64 } from './u64.js'
import { decodeVmxExit, type VmxExit } from './vmx-exit.js'

/** RAX after TDG.VP.ENTER (`TdxVpEnterRaxResult`; abi.md §3.6, vsm-on-tdx.md §6.4). */
export interface TdxVpEnterResult {
  /** RAX[31:0]: the VMX exit reason, meaningful only when `l2Ran`. */
  vmxExit: VmxExit
  /** RAX[63:32]: the TDX status code (0 = ordinary L2 exit). */
  tdxStatus: number
  /**
   * False when the status is TDX_PENDING_INTERRUPT (0x1120) or above (openvmm compares the code
   * numerically, so every error code counts too): the L2 VM never ran and there is no exit to
   * dispatch.
   */
  l2Ran: boolean
}

export function decodeTdxVpEnterResult(rax: bigint): TdxVpEnterResult {
  checkU64(rax, 'rax')
  const tdxStatus = Number(rax >> 32n)
  return {
    vmxExit: decodeVmxExit(Number(rax & 0xffff_ffffn)),
    tdxStatus,
    l2Ran: tdxStatus < TdxStatus.TDX_PENDING_INTERRUPT,
  }
}
