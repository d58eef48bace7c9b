import type { L2VmIndex, TdcallInput, TdcallOutput, TdxVmFlags } from '@vtl/core'

/** Anything that answers TDCALLs at the register level: the module, or a fault-injecting wrapper. */
export interface TdcallPort {
  /** One TDCALL issued by the L1 VMM (the paravisor) on `vp`. RAX[63:32] is the status. */
  tdcall(vp: number, input: TdcallInput): TdcallOutput
}

/** TDG.VP.WR's field id and mask, resolved once by the module that runs the writes. */
export interface PreparedVpWr {
  readonly id: bigint
  readonly mask: bigint
}

/**
 * A TDCALL port that also runs TDG.VP.WR answering only RAX, for a host that writes many fields
 * in a row (an initial context's ~43): the same checks, write and accounting as `tdcall`.
 */
export interface VpWrPort extends TdcallPort {
  /** Resolves a field id and mask for `vpWrStatus` (once per field, not per call). */
  prepareVpWr(id: bigint, mask: bigint): PreparedVpWr
  /** TDG.VP.WR of `field` on `vp` with `value`: RAX (the other output registers are not built). */
  vpWrStatus(vp: number, field: PreparedVpWr, value: bigint): bigint
}

/**
 * What an L2 VM did when TDG.VP.ENTER ran it: the registers TDG.VP.ENTER returns (abi.md §3.6).
 * Only `exitReason` is required; the rest default to 0.
 */
export interface VpEnterExit {
  /** RAX[31:0]: the VMX exit reason (basic reason in 15:0, `VmxExitBasic`). */
  exitReason: number
  /**
   * RAX[63:32]: 0 for an ordinary L2 exit, or one of the class-0x11 codes (0x1100 host-routed
   * async, 0x1102 L2 exit with pending interrupt, 0x1120 PENDING_INTERRUPT = the L2 never ran …).
   */
  tdxStatus?: number
  /** RCX: exit qualification. */
  exitQualification?: bigint
  /** RDX: guest linear address (EPT violation). */
  gla?: bigint
  /** R8: guest physical address (EPT violation). */
  gpa?: bigint
  /** R9: exit interruption info (lo32) / error code (hi32). */
  interruptionInfo?: bigint
  /** R10: IDT-vectoring info (lo32) / error code (hi32). */
  idtVectoringInfo?: bigint
  /** R11: instruction info (lo32) / instruction length (hi32). */
  instructionInfo?: bigint
  /** R12[1:0]: the L2's CPL at the exit. */
  cpl?: number
}

/**
 * The guest runner behind TDG.VP.ENTER. The module validates the call, records the entry, then
 * hands control to this callback, which runs the L2 VM (a scripted guest) until it exits and
 * returns that exit (an injected event is delivered by the L2 as its entry starts). It runs synchronously inside `tdcall`; it must not re-enter `tdcall` on the
 * same VP (a real L2 cannot issue L1 TDCALLs either).
 */
export type OnEnter = (
  vp: number,
  vmIndex: L2VmIndex,
  flags: TdxVmFlags,
  guestStateGpa: bigint,
  /** The VM-entry interruption information this entry delivers (valid bit set), if any. */
  entryEvent?: bigint
) => VpEnterExit

/** One accepted/pending/free page range of the Secure EPT, as the module sees it. */
export interface PageAttrView {
  /** Mapped and accepted (guest-accessible). */
  accepted: boolean
  /** Mapped by the host (TDH.MEM.PAGE.AUG) but not yet accepted. */
  pending: boolean
  /** Mapping level of the page's leaf entry: 0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB (0 when free). */
  level: 0 | 1 | 2
  /** The 16-bit GPA_ATTR slot of each L2 VM; 0 = no alias (VALID clear). */
  vm1: number
  vm2: number
  vm3: number
}

export interface SoftwareTdxModuleOptions {
  /** Number of VPs (1..4096). VP state is created on first use. */
  vps: number
  /** Guest physical address width: 48 (shared bit 47, the default) or 52 (shared bit 51). */
  gpaWidth?: 48 | 52
  /** TDCS NUM_L2_VMS: 1..3 (default 2: VTL0 = VM #1, VTL1 = VM #2). */
  numL2Vms?: 1 | 2 | 3
  /**
   * Private RAM that is accepted when the TD starts, as page ranges (the boot state of
   * scenario-format.md: accepted, VTL0 = VM #1 has `ramAttr.vm1`). Mapped at the largest aligned
   * level up to `ramLevel`.
   */
  ram?: readonly { gpn: number | bigint; pages: number | bigint; level?: 0 | 1 | 2 }[]
  /**
   * Largest mapping level used for `ram` entries without their own `level` (default 1 = 2 MiB,
   * what a TD boot accepts at).
   */
  ramLevel?: 0 | 1 | 2
  /** Initial L2 attributes of `ram` (default: vm1 = 0x800F FULL_ACCESS, vm2 = vm3 = 0). */
  ramAttr?: { vm1?: number; vm2?: number; vm3?: number }
  /** TDG.SYS.RD TDX_FEATURES0 (default 0). */
  tdxFeatures0?: bigint
  /** Extra TDCS CONFIG_FLAGS bits; GPAW (bit 0) follows `gpaWidth` (default 0). */
  configFlags?: bigint
  /** Initial TDCS TD_CTLS (default 0). */
  tdCtls?: bigint
  /** TDX Connect page release (CONFIG_FLAGS.PAGE_RELEASE): enables TDG.MEM.PAGE.RELEASE. */
  pageRelease?: boolean
  /**
   * TDG.VP.ENTER refuses a VM whose VMCS VIRTUAL_APIC_PAGE is 0 (TDX module: the L2 virtual-APIC
   * page must be set, abi.md §3.5) with TDX_OPERAND_INVALID. Default true; false skips the check.
   */
  requireVirtualApicPage?: boolean
  /** The guest runner for TDG.VP.ENTER (default: every entry exits with HLT). */
  onEnter?: OnEnter
  /** Told about pages that ACCEPT zeroed, so a memory-contents model can clear them. */
  onPagesZeroed?: (gpn: number, pages: number) => void
  /** Observer of every completed TDCALL (trace, costs). Not called for fault-injected failures. */
  onTdcall?: (vp: number, input: TdcallInput, output: TdcallOutput) => void
  /** The same observer for the calls `vpWrStatus` runs, which build no input or output. */
  onTdcallStatus?: (vp: number, leaf: number, rax: bigint) => void
}
