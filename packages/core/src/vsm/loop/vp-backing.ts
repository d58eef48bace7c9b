import type { GuestVtl } from '../../hv/vtl.js'
import type { GpaWidth } from '../../tdx/shared-bit.js'
import type { PageFacts } from './mem-access.js'
import type { VpExit } from './vp-exit.js'

/**
 * How the one VP loop reaches a platform (OpenVMM's backing per isolation type): the software TD,
 * the kernel path (`/dev/mshv_vtl`), or a test double. The engine's register banks are the source
 * of truth: `enter` copies `vtl`'s private registers and the shared GPRs into the L2's state
 * (§6.4 step 4), runs the L2 until it exits, and copies the guest's registers back into the
 * engine before it returns (step 6). Everything else the loop needs from the guest it reads
 * through the methods below, as hardware would let a paravisor read it.
 */
export interface VpBackingBase {
  readonly gpaWidth: GpaWidth
  /** MBEC at the hardware level for VTL0. */
  readonly mbecCapable: boolean
  /** XMM0–XMM5 of `vp` as 12 u64 (low then high half of each): fast-hypercall input after R8. */
  xmm(vp: number): readonly bigint[]
  /** `length` bytes of guest RAM at a canonical GPA, or undefined when the range is not RAM. */
  readGuest(gpa: bigint, length: number): Uint8Array | undefined
  /** Writes guest RAM at a canonical GPA; false (nothing written) when the range is not RAM. */
  writeGuest(gpa: bigint, bytes: Uint8Array): boolean
  /** The Secure EPT and GPA-space facts of one canonical page (an EPT violation's page). */
  pageFacts(gpn: bigint): PageFacts
  /**
   * Told the VTL the VP will run next after each entry preparation (statistics, traces), and the
   * vector that preparation accepted for it (now in service; 2: an NMI; -1: none), which a
   * backing whose guest takes interrupts through its IDT delivers at that VTL's next entry.
   */
  prepared?(vp: number, vtl: GuestVtl, vector: number): void
}

/** A backing whose entry completes synchronously (the software TD). */
export interface VpBacking extends VpBackingBase {
  enter(vp: number, vtl: GuestVtl): VpExit
}

/** A backing whose entry completes later (the kernel path: a pinned thread per VP). */
export interface AsyncVpBacking extends VpBackingBase {
  /** Undefined: the run was cancelled before the L2 ran (a wake); the loop prepares again. */
  enter(vp: number, vtl: GuestVtl): Promise<VpExit | undefined>
}
