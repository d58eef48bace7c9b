import {
  VmxExitBasic,
  classifyGpa,
  decodeVpExit,
  emptyVpExit,
  entryReason,
  type GpaWidth,
  type GuestVtl,
  type PageFacts,
  type VpBacking,
  type VpExit,
} from '@vtl/core'
import { pageFacts } from '../guest/access.js'
import type { SimTd } from './sim-td.js'

// Bound once: where the sources run through a CommonJS transform (tsx: the benchmarks), each use
// of a barrel import is a chain of getters, and these run on every exit.
const decode = decodeVpExit
const entryReasonOf = entryReason
const VMCALL = VmxExitBasic.VMCALL

/** `HvVtlEntryReason` names for the trace. */
const ENTRY_REASONS: readonly string[] = ['reserved', 'VTL_CALL', 'INTERRUPT', 'INTERCEPT']

/**
 * The software TD as a backing of core's VP loop: TDG.VP.ENTER through the fault injector into
 * the software TDX module (whose L2 is the scripted guest), guest RAM in `MemoryContents`, page
 * facts from the Secure EPT and the GPA space. It also keeps the simulator's books: VTL switches,
 * the cycle costs of an exit and of the hypercall handler.
 */
export class SimTdBacking implements VpBacking {
  readonly gpaWidth: GpaWidth
  readonly mbecCapable: boolean
  /** The simulated cycle count at the last L2 exit (before its cost). */
  exitAt = 0
  private readonly td: SimTd
  private readonly exit: VpExit = emptyVpExit()

  constructor(td: SimTd) {
    this.td = td
    this.gpaWidth = td.gpaWidth
    this.mbecCapable = td.mbecCapable
  }

  enter(vp: number, vtl: GuestVtl): VpExit {
    const td = this.td
    const exit = decode(td.vpEnter(vp, vtl), this.exit)
    if (exit.tdxStatus === 0) {
      // The exit, then (for a VMCALL) the hypercall handler: one clock advance for both.
      const cost = td.cost
      this.exitAt = td.tick(
        vp,
        exit.reason === VMCALL ? cost.l2Exit + cost.hypercallHandler : cost.l2Exit
      )
    }
    return exit
  }

  xmm(vp: number): readonly bigint[] {
    const cpu = this.td.l2Cpu
    return cpu === undefined ? this.td.guestVp(vp).xmm : cpu.xmm(vp)
  }

  readGuest(gpa: bigint, length: number): Uint8Array | undefined {
    const at = this.ram(gpa, length)
    return at === undefined ? undefined : this.td.contents.readBytes(at, length)
  }

  writeGuest(gpa: bigint, bytes: Uint8Array): boolean {
    const at = this.ram(gpa, bytes.length)
    if (at === undefined) return false
    this.td.contents.writeBytes(at, bytes)
    return true
  }

  pageFacts(gpn: bigint): PageFacts {
    return pageFacts(this.td, gpn)
  }

  /**
   * Hands guest code the interrupt the preparation accepted, and counts (and traces) a VTL switch
   * when the VTL to run differs from the last one.
   */
  prepared(vp: number, vtl: GuestVtl, vector: number): void {
    const td = this.td
    if (vector >= 0) td.l2Cpu?.interruptAccepted(vp, vtl, vector)
    const before = td.enteredVtl[vp] as GuestVtl
    if (vtl === before) return
    td.enteredVtl[vp] = vtl
    td.vtlSwitch(vp, before, vtl, td.traceEvents ? this.entryReason(vp) : '')
  }

  /** The entry reason's name: it only names the switch in the trace. */
  private entryReason(vp: number): string {
    const td = this.td
    return ENTRY_REASONS[entryReasonOf(td.engine, td.engine.vp(vp))] ?? ''
  }

  /** The canonical start of `length` bytes at `gpa` when they all lie in RAM. */
  private ram(gpa: bigint, length: number): bigint | undefined {
    const { canonical } = classifyGpa(gpa, this.gpaWidth)
    return canonical + BigInt(length) <= this.td.memoryBytes ? canonical : undefined
  }
}
