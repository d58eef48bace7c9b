import type { TdcallLeafName } from '@vtl/core'

/**
 * Simulated cycle costs per event. No published latency exists for a TDX VTL switch
 * (landscape.md §4), so the model counts the hops OpenHCL makes — L2→L1 exit, user/kernel
 * crossings, TDG.VP.ENTER — and prices each one; every default says where it comes from.
 */
export interface CostTable {
  /** An L2 VM exit to the L1 VMM through the TDX module (VMCALL, EPT violation, …). */
  l2ToL1Exit: number
  /** TDG.VP.ENTER: L1 → TDX module → L2 VM entry. */
  vpEnter: number
  /** One user/kernel crossing of the paravisor (the mshv_vtl ioctl, each way). */
  ioctlCrossing: number
  /** A TDCALL whose leaf has no entry in `tdcallByLeaf`. */
  tdcallDefault: number
  /** Per-leaf TDCALL costs. */
  tdcallByLeaf: Partial<Record<TdcallLeafName, number>>
  /** A hypercall forwarded to the host through /dev/mshv_hvcall (exit to the hypervisor and back). */
  hypercallForward: number
  /** The paravisor's own work to switch VTL (bank the private registers, pick the VM). */
  vtlSwitch: number
  /** Handling one guest hypercall in the paravisor's user-mode handler (decode + engine). */
  hypercallHandler: number
  /** Delivering an interrupt or intercept message into a VTL. */
  interruptDelivery: number
}

export const DEFAULT_COSTS: Readonly<CostTable> = Object.freeze({
  // ~1,350 cycles VMRUN→#VMEXIT on AMD (LKML 2020-12, landscape.md §4): a single world switch.
  l2ToL1Exit: 1_400,
  // Estimate: a VM entry plus the TDX module's L2 state checks, about one exit's worth again.
  vpEnter: 1_600,
  // ~2,550 cycles per KVM_RUN round trip minus ~1,350 for the world switch leaves ~1,200 for two
  // crossings and dispatch (LKML 2020-12, landscape.md §4): ~600 each.
  ioctlCrossing: 600,
  // Estimate: SEAM entry/exit for a simple leaf.
  tdcallDefault: 500,
  tdcallByLeaf: Object.freeze({
    // Estimate: an ACCEPT zeroes the page (4 KiB here; 2 MiB accepts cost more in reality).
    'TDG.MEM.PAGE.ACCEPT': 2_000,
    // Estimate: SEPT walk of L1 plus each L2 tree, lock, update.
    'TDG.MEM.PAGE.ATTR.WR': 900,
    // Estimate: SEPT walk only.
    'TDG.MEM.PAGE.ATTR.RD': 600,
    // Estimate: a VMCS field access through the module (VMPTRLD of the L2 VMCS, VMREAD/VMWRITE).
    'TDG.VP.RD': 400,
    'TDG.VP.WR': 450,
    // Estimate: INVEPT of one or more L2 EPTs.
    'TDG.VP.INVEPT': 800,
    'TDG.VP.INVGLA': 700,
  }),
  // ~8,300 cycles per nested CPUID exit with enlightened VMCS (Linux vmx_evmcs commit,
  // landscape.md §4): the shape of an L1 exit out to the host and back.
  hypercallForward: 8_300,
  // Estimate: copying the private register bank in and out of the run page.
  vtlSwitch: 300,
  // Estimate: user-mode decode, locks and engine logic.
  hypercallHandler: 1_000,
  // Estimate: APIC/SynIC bookkeeping in the paravisor.
  interruptDelivery: 500,
})

/** Events the model prices. */
export type CostEvent =
  | { kind: 'l2-exit' }
  | { kind: 'vp-enter' }
  | { kind: 'ioctl' }
  | { kind: 'tdcall'; leaf: TdcallLeafName | undefined }
  | { kind: 'hypercall-forward' }
  | { kind: 'vtl-switch' }
  | { kind: 'hypercall-handler' }
  | { kind: 'interrupt' }

export type CostOverrides = Partial<Omit<CostTable, 'tdcallByLeaf'>> & {
  tdcallByLeaf?: Partial<Record<TdcallLeafName, number>>
}

export class CostModel {
  readonly table: Readonly<CostTable>

  constructor(overrides: CostOverrides = {}) {
    const table: CostTable = {
      ...DEFAULT_COSTS,
      ...overrides,
      tdcallByLeaf: { ...DEFAULT_COSTS.tdcallByLeaf, ...overrides.tdcallByLeaf },
    }
    for (const [key, value] of Object.entries(table)) {
      if (key === 'tdcallByLeaf') continue
      checkCost(value as number, key)
    }
    for (const [key, value] of Object.entries(table.tdcallByLeaf)) checkCost(value, key)
    this.table = Object.freeze(table)
  }

  cost(event: CostEvent): number {
    const t = this.table
    switch (event.kind) {
      case 'l2-exit':
        return t.l2ToL1Exit
      case 'vp-enter':
        return t.vpEnter
      case 'ioctl':
        return t.ioctlCrossing
      case 'tdcall':
        return this.tdcall(event.leaf)
      case 'hypercall-forward':
        return t.hypercallForward
      case 'vtl-switch':
        return t.vtlSwitch
      case 'hypercall-handler':
        return t.hypercallHandler
      case 'interrupt':
        return t.interruptDelivery
    }
  }

  tdcall(leaf: TdcallLeafName | undefined): number {
    return (
      (leaf === undefined ? undefined : this.table.tdcallByLeaf[leaf]) ?? this.table.tdcallDefault
    )
  }

  /**
   * One VTL0 → VTL1 call on OpenHCL-TDX as landscape.md §4 lists the hops: an L2→L1 exit, two
   * user/kernel crossings (exit to user mode, MSHV_VTL_RETURN_TO_LOWER_VTL), the paravisor's
   * handler and switch, and TDG.VP.ENTER of the other L2 VM.
   */
  vtlCallRoundTrip(): number {
    const t = this.table
    return t.l2ToL1Exit + 2 * t.ioctlCrossing + t.hypercallHandler + t.vtlSwitch + t.vpEnter
  }

  toJSON(): CostTable {
    return { ...this.table, tdcallByLeaf: { ...this.table.tdcallByLeaf } }
  }
}

function checkCost(value: number, name: string): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`cost ${name} must be a finite non-negative number, got ${value}`)
  }
}
