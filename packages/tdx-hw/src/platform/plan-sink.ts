import {
  HV_PARTITION_ID_SELF,
  HostVisibility,
  HypercallCode,
  decodeHypercallResult,
  encodeHypercallControl,
  encodeModifySparseGpaPageHostVisibility,
} from '@vtl/core'
import { tdcallRegisters, type PlanOp, type PlanSink } from '@vtl/memory'
import type { HvcallDevice } from '../devices/hvcall-device.js'
import type { TdcallRequest } from '../devices/vtl-fd.js'
import type { TdcallOutput } from '@vtl/core'

/** What the sink needs of the VTL fd: a TD-wide TDCALL (ACCEPT / ATTR.WR are not per-vCPU). */
export interface TdcallIssuer {
  tdcall(input: TdcallRequest): TdcallOutput
}

// One input page: the 16-byte header, then u64 GPNs.
const GPNS_PER_CALL = (4096 - 16) / 8

/**
 * `@vtl/memory`'s plan operations on real calls: ACCEPT, ATTR.WR and RELEASE as TDCALLs through
 * the pass-through, returning RAX untouched (the executor owns retries); a map-gpa op as
 * HvCallModifySparseGpaPageHostVisibility to the hypervisor, as OpenHCL tells the host (the
 * pass-through refuses TDG.VP.VMCALL, so MapGPA itself cannot go that way).
 */
export class HwPlanSink implements PlanSink {
  private readonly tdx: TdcallIssuer
  private readonly hvcall: HvcallDevice

  constructor(tdx: TdcallIssuer, hvcall: HvcallDevice) {
    this.tdx = tdx
    this.hvcall = hvcall
  }

  execute(op: PlanOp): bigint {
    if (op.kind === 'map-gpa') return this.changeVisibility(op.gpn, op.pages, op.shared)
    const regs = tdcallRegisters(op)
    return this.tdx.tdcall({
      leaf: Number(regs.rax),
      rcx: regs.rcx,
      rdx: regs.rdx,
      r8: regs.r8,
      r9: 0n,
    }).rax
  }

  /** 0n when every page has the target visibility; else the failing hypercall result word. */
  private changeVisibility(gpn: bigint, pages: bigint, shared: boolean): bigint {
    const hostVisibility = shared ? HostVisibility.ReadWrite : HostVisibility.Private
    for (let done = 0n; done < pages;) {
      const count = Number(
        pages - done < BigInt(GPNS_PER_CALL) ? pages - done : BigInt(GPNS_PER_CALL)
      )
      const gpns = Array.from({ length: count }, (_, i) => gpn + done + BigInt(i))
      const input = encodeModifySparseGpaPageHostVisibility(
        { partitionId: HV_PARTITION_ID_SELF, hostVisibility },
        gpns
      )
      const control = encodeHypercallControl({
        code: HypercallCode.ModifySparseGpaPageHostVisibility,
        fast: false,
        variableHeaderSize: 0,
        nested: false,
        repCount: count,
        repStart: 0,
      })
      const { result } = this.hvcall.call(control, input)
      const { status, repsCompleted } = decodeHypercallResult(result)
      if (status !== 0 || repsCompleted !== count) return result === 0n ? 1n : result
      done += BigInt(count)
    }
    return 0n
  }
}
