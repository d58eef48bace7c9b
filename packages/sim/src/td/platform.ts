import type { HypervisorPort, TdcallInput, TdcallOutput } from '@vtl/core'
import type { PlanSink } from '@vtl/memory'

/** The hardware facts of one canonical page that guest accesses depend on. */
export interface PageAttrFacts {
  accepted: boolean
  /** 16-bit GPA_ATTR of L2 VM #1 (VTL0) and #2 (VTL1); 0 = no alias. */
  vm1: number
  vm2: number
}

/**
 * What the TD needs from the simulated platform: TDCALLs on a VP, the memory plan sink, page
 * attributes as the TDX module holds them, and the untrusted hypervisor. The software TDX module
 * and hypervisor plug in behind this; `basic-platform.ts` is the stand-in while they are absent.
 */
export interface TdPlatform {
  tdcall(vp: number, input: TdcallInput): TdcallOutput
  planSink(vp: number): PlanSink
  pageAttr(gpn: bigint): PageAttrFacts
  readonly hypervisor: HypervisorPort
  /** A JSON form of the module and hypervisor state, and its inverse. */
  save(): unknown
  restore(saved: unknown): void
}
