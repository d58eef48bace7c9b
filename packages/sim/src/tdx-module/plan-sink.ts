import type { MapGpaOp, PlanOp, PlanSink } from '@vtl/memory'
import { tdcallRegisters } from '@vtl/memory'
import type { TdcallPort } from './types.js'

/**
 * Tells the host about a MapGPA range. At the TDX level this is TDG.VP.VMCALL<MapGPA>; OpenHCL
 * issues it as HvCallModifySparseGpaPageHostVisibility to the hypervisor. Returns 0n once the
 * whole range has the target visibility, anything else is a host failure.
 */
export type HostVisibilityCallback = (op: MapGpaOp) => bigint

/** A module that can also play the host's part of MapGPA (the software module can). */
interface HostMapGpa {
  hostMapGpa(gpn: number, pages: number, shared: boolean): bigint
}

function hasHostMapGpa(module: object): module is HostMapGpa {
  return typeof (module as Partial<HostMapGpa>).hostMapGpa === 'function'
}

/**
 * A @vtl/memory `PlanSink` that runs ACCEPT / ATTR.WR / RELEASE ops as TDCALLs on `vp`
 * (registers from `tdcallRegisters`, RAX returned untouched, never retried — the executor owns
 * PAGE_SIZE_MISMATCH splitting and BUSY retries). MapGPA ops go to `hostVisibility`; without
 * one, to the module's own host model (`hostMapGpa`) when it has one, else they succeed.
 */
export function tdxModulePlanSink(
  module: TdcallPort,
  vp = 0,
  hostVisibility?: HostVisibilityCallback
): PlanSink {
  return {
    execute(op: PlanOp): bigint {
      if (op.kind === 'map-gpa') {
        if (hostVisibility !== undefined) return hostVisibility(op)
        if (hasHostMapGpa(module))
          return module.hostMapGpa(Number(op.gpn), Number(op.pages), op.shared)
        return 0n
      }
      const regs = tdcallRegisters(op)
      return module.tdcall(vp, {
        leaf: Number(regs.rax & 0xffffn),
        rcx: regs.rcx,
        rdx: regs.rdx,
        r8: regs.r8,
        r9: 0n,
      }).rax
    },
  }
}
