import type { GuestVtl } from '@vtl/core'
import type { VpEnterExit } from '../tdx-module/types.js'

/** Where a VP's guest code stands after its last exit (the `run` action's result is the delta). */
export interface L2Progress {
  /** Everything the VP wrote to the debug console (port 0xE9). */
  console: string
  /** Instructions the VP executed so far, all VTLs together. */
  instructions: number
  /** Written to the exit port (0xF4) since `startRun`. */
  exitCode: number | undefined
  /** The budget `startRun` gave is spent. */
  budgetSpent: boolean
}

/**
 * The CPU of the L2 VMs behind TDG.VP.ENTER when the guests run real code (`partition.cpu: x86`)
 * instead of the scripted guest. `enter` runs `vtl` of `vp` from the engine's register banks
 * (delivering `entryEvent`, the VM-entry interruption information, as the entry starts) until an
 * exit the paravisor sees, copies the registers back, and reports the exit as TDG.VP.ENTER does.
 */
export interface L2Cpu {
  enter(vp: number, vtl: GuestVtl, entryEvent: bigint | undefined): VpEnterExit
  /**
   * The entry preparation accepted `vector` for `vtl` (it is in service; 2: an NMI): the guest
   * takes it through its IDT at one of that VTL's next entries.
   */
  interruptAccepted(vp: number, vtl: GuestVtl, vector: number): void
  /** XMM0–XMM5 as 12 u64 (low, high) of the VTL that exited last: fast-hypercall input. */
  xmm(vp: number): readonly bigint[]
  /** Starts a `run` step: at most `maxInstructions` more on `vp`; forgets the last exit code. */
  startRun(vp: number, maxInstructions: number): void
  progress(vp: number): L2Progress
  /** Frees the CPU's native resources; the TD's memory contents stay readable. */
  close(): void
}
