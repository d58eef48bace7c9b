import type { HvStatus } from '../hv/status.js'
import type { GuestVtl } from '../hv/vtl.js'
import type { VtlRegisterWrite } from './registers.js'

/** What the untrusted hypervisor answered: the result word and any output bytes. */
export interface HypervisorCallResult {
  /** The hypercall result word (status in bits 15:0, reps completed in 43:32). */
  result: bigint
  output?: Uint8Array
}

/**
 * What the untrusted host is told, at the hypercall level (OpenHCL's `/dev/mshv_hvcall`). The
 * simulator records the call; the hardware backend issues it. Only what OpenHCL itself forwards on
 * TDX goes through here: EnablePartitionVtl with flags 0, EnableVpVtl with an all-zero context and
 * ModifySparseGpaPageHostVisibility.
 */
export interface HypervisorPort {
  /** `input` may be shared with later calls: copy it to keep it, never modify it. */
  hypercall(control: bigint, input: Uint8Array): HypervisorCallResult
}

/**
 * Guest RAM as the paravisor reaches it (OpenHCL's `GuestMemory`): the overlay pages live there
 * while they are mapped (§13.14). A host without guest RAM leaves it out; overlays then stay
 * private to the paravisor.
 */
export interface GuestMemoryPort {
  /** `length` bytes at a GPA, or undefined when the range is not RAM. */
  read(gpa: bigint, length: number): Uint8Array | undefined
  /** False (nothing written) when the range is not RAM. */
  write(gpa: bigint, bytes: Uint8Array): boolean
}

/** An exception the engine asks the VP's host to inject (RIP is left where it is). */
export interface InjectedException {
  vector: number
  errorCode?: number
}

/**
 * The VP's platform state: on TDX, VMCS_1/VMCS_2 through TDG.VP.WR and the kernel's run page. The
 * engine keeps its own copy of every register it reads (the private bank and the shared GPRs); this
 * port carries the writes the hardware must see.
 */
export interface VpPort {
  /**
   * Write `vtl`'s registers on `vp` (TDG.VP.WR on VMCS #2 for VTL1 on TDX). A non-success status
   * means nothing was written; the engine then leaves its own state as it was. `registers` is
   * read-only: it may be frozen and shared between VPs (copy it to keep a changed version).
   */
  writeVtlRegisters(vp: number, vtl: GuestVtl, registers: VtlRegisterWrite): HvStatus
  /** Kick `vp` out of its lower VTL so that it handles its wake reasons (§2.4). */
  wakeVp(vp: number): void
  /** Inject an exception into `vtl` on `vp`, instead of completing the instruction. */
  injectException(vp: number, vtl: GuestVtl, exception: InjectedException): void
}
