import { VtlError, tdgVpWr, vmcsFieldCode, type GuestVtl, type TdcallInput } from '@vtl/core'
import type { VmcsWrite } from '@vtl/core'
import { resetRunPageBank, vmcsWriteMask, type RunPageBank } from './vmcs-writes.js'

/** A queued TDG.VP.WR, applied on the VP's own pinned thread before its next entry. */
export interface PendingVmcsWrite {
  vtl: GuestVtl
  encoding: number
  request: TdcallInput
}

/**
 * What the platform holds for one VP: each VTL's run-page registers, and the VMCS writes that
 * wait for the VP's thread (TDG.VP.WR reaches only the calling CPU's TD vCPU).
 */
export class HwVpState {
  readonly vp: number
  readonly banks: [RunPageBank, RunPageBank] = [resetRunPageBank(), resetRunPageBank()]
  private pending: PendingVmcsWrite[] = []

  constructor(vp: number) {
    this.vp = vp
  }

  /** Builds every TDG.VP.WR first (bad values throw here), then queues them all. */
  queue(vtl: GuestVtl, writes: readonly VmcsWrite[]): void {
    const built = writes.map((write) => ({
      vtl,
      encoding: write.encoding,
      request: tdgVpWr(
        vmcsFieldCode(vtl, write.encoding),
        write.value,
        vmcsWriteMask(write.encoding)
      ),
    }))
    this.pending.push(...built)
  }

  get pendingCount(): number {
    return this.pending.length
  }

  /** Takes the queue (the caller applies it or drops it). */
  take(): PendingVmcsWrite[] {
    const taken = this.pending
    this.pending = []
    return taken
  }
}

export function checkVp(vp: number, cpuCount: number): void {
  if (!Number.isInteger(vp) || vp < 0 || vp >= cpuCount) {
    throw new VtlError('E_FIELD_RANGE', `VP index ${vp} is outside 0..${cpuCount - 1}`, {
      field: 'vp',
    })
  }
}
