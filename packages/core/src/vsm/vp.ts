import type { VpVtlControl } from '../hv/vp-assist-page.js'
import type { GuestVtl } from '../hv/vtl.js'
import { VtlApic } from './apic.js'
import type { OverlayKind } from './overlay-pages.js'
import {
  resetPrivateRegisters,
  resetSharedRegisters,
  type PrivateRegisters,
  type SharedRegisters,
} from './registers.js'

/** `SecureRegisterInterceptState` (§2.3). */
export interface RegisterInterceptState {
  interceptControl: bigint
  cr0Mask: bigint
  cr4Mask: bigint
  ia32MiscEnableMask: bigint
}

/** `GuestVsmVpState`: exists once the VP has observed its EnableVpVtl ("VTL1 active", §4.3). */
export interface GuestVsmVpState {
  vpMbecEnabled: boolean
  /** `HvX64PendingExceptionEvent` VTL1 queued for VTL0 (u128), injected on the next exit to VTL0. */
  vtl0ExitPendingEvent: bigint | undefined
  regIntercept: RegisterInterceptState
}

/** SINT bit 16 (`masked`). SINT0 is masked at reset (§13.1). */
export const SINT_MASKED = 1n << 16n

/** One VTL's SynIC, as much as intercept delivery and VINA need (`ProcessorVtlHv.synic`). */
export interface VtlSynic {
  sint: bigint[]
  scontrol: bigint
  simp: bigint
  siefp: bigint
  /** `HvRegisterVsmVina` (bits 0–7 vector, 8 enabled, 9 auto_reset, 10 auto_eoi). */
  vina: bigint
  /** Per SINT: the message slot holds an unconsumed message. */
  slotBusy: boolean[]
  /** Per SINT: the last message posted (256 bytes), for the host to copy into the SIMP page. */
  message: (Uint8Array | undefined)[]
}

/** The per-VTL half of a VP: registers, assist page, SynIC, LAPIC. */
export interface VtlState {
  registers: PrivateRegisters
  /** `HV_X64_MSR_VP_ASSIST_PAGE` (bit 0 enable, bits 63:12 the page number). */
  vpAssistPage: bigint
  /** `HV_X64_MSR_HYPERCALL` (bit 0 enable, bit 1 locked, bits 63:12 the page number). */
  hypercallMsr: bigint
  /** `HvVpVtlControl` of this VTL's VP assist page (§7.3); the host mirrors it into the page. */
  control: VpVtlControl
  synic: VtlSynic
  /** An overlay page's bytes while it is not mapped, once it has been (§13.14). */
  overlayPrivate: Partial<Record<OverlayKind, Uint8Array>>
  apic: VtlApic
  /** STI / MOV SS shadow: blocks interrupt delivery into this VTL for one instruction. */
  interruptShadow: boolean
}

// The reset SINTs and busy flags as array literals of constants: the engine then shares one
// copy-on-write element store among all of them until a VTL writes one (a 1024-VP TD builds
// 4,000 of these). `SINT_MASKED` is 0x10000n.

function resetSints(): bigint[] {
  // prettier-ignore
  return [
    0x10000n, 0x10000n, 0x10000n, 0x10000n, 0x10000n, 0x10000n, 0x10000n, 0x10000n,
    0x10000n, 0x10000n, 0x10000n, 0x10000n, 0x10000n, 0x10000n, 0x10000n, 0x10000n,
  ]
}

function resetSlotsBusy(): boolean[] {
  // prettier-ignore
  return [
    false, false, false, false, false, false, false, false,
    false, false, false, false, false, false, false, false,
  ]
}

function vtlState(vtl: GuestVtl, bsp: boolean): VtlState {
  const apic = new VtlApic()
  // The VTL1 LAPIC runs on every VP; VTL0's waits for SIPI except on the BSP (§2.3).
  apic.activity = vtl === 1 || bsp ? 'running' : 'wait-for-sipi'
  return {
    registers: resetPrivateRegisters(),
    vpAssistPage: 0n,
    hypercallMsr: 0n,
    control: { entryReason: 0, vinaStatus: 0, registers: [0n, 0n] },
    // A plain object, so spread, structuredClone and JSON see every field (`VtlState` is public).
    synic: {
      sint: resetSints(),
      scontrol: 0n,
      simp: 0n,
      siefp: 0n,
      vina: 0n,
      slotBusy: resetSlotsBusy(),
      message: new Array<Uint8Array | undefined>(16).fill(undefined),
    },
    overlayPrivate: {},
    apic,
    interruptShadow: false,
  }
}

/**
 * The VP-owned state (`UhCvmVpState`, §2.3): only the VP's own thread touches it. Cross-VP state
 * (enable flag, started, pending contexts, wake words, TLB locks) lives in `SharedVsmState`.
 */
export class VsmVp {
  readonly index: number
  /** The VTL the next lower-VTL entry runs (`exit_vtl`). */
  exitVtl: GuestVtl = 0
  /**
   * Per VTL: the other VPs whose TLB lock of that VTL this VP waits for before it next enters it
   * (§13.15; `tlb_lock.rs`), or undefined.
   */
  readonly tlbWait: [number[] | undefined, number[] | undefined] = [undefined, undefined]
  /** Per VTL, beside `tlbWait`: each recorded VP's `tlbReleases` count when it was recorded. */
  readonly tlbWaitReleases: [number[] | undefined, number[] | undefined] = [undefined, undefined]
  /** Some once VTL1 is Active on this VP (§4.3). */
  vtl1: GuestVsmVpState | undefined = undefined
  readonly vtls: [VtlState, VtlState]
  /** RAX…R15 (not RSP), CR2, DR0–3/DR6, XFEM: shared by VTL0 and VTL1 on TDX (§6.4). */
  readonly shared: SharedRegisters

  constructor(index: number) {
    this.index = index
    this.vtls = [vtlState(0, index === 0), vtlState(1, index === 0)]
    this.shared = resetSharedRegisters()
  }

  vtl(vtl: GuestVtl): VtlState {
    return this.vtls[vtl]
  }

  /** The VP assist page is enabled for `vtl` (bit 0 of the MSR). */
  assistPageEnabled(vtl: GuestVtl): boolean {
    return (this.vtls[vtl].vpAssistPage & 1n) !== 0n
  }
}
