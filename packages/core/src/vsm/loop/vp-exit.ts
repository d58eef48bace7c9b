import { TdxStatus } from '../../tdx/completion-status.js'

/**
 * One L2 exit as TDG.VP.ENTER reports it (abi.md, `TdxExit`): what the paravisor learns from the
 * hardware, and nothing more. A backing fills it from the TDCALL's output registers (the software
 * TD) or from the run page's `exit_info` (the kernel path).
 */
export interface VpExit {
  /**
   * RAX[63:32]: 0 for an ordinary L2 exit; TDX_PENDING_INTERRUPT (0x1120) or above means the L2
   * never ran and there is no exit to dispatch.
   */
  tdxStatus: number
  /** RAX[15:0]: the basic VMX exit reason (`VmxExitBasic`). */
  reason: number
  /** RCX: the exit qualification. */
  qualification: bigint
  /** R8: the GPA of an EPT violation, as the guest used it (shared bit included). */
  gpa: bigint
  /** R11[63:32]: the length of the instruction that exited. */
  instructionLength: number
  /** R12[1:0]: the L2's CPL at the exit. */
  cpl: number
}

/** The output registers of TDG.VP.ENTER that describe an exit. */
export interface VpExitRegisters {
  rax: bigint
  rcx: bigint
  r8: bigint
  r11: bigint
  r12?: bigint
}

// The last RAX and R11 decoded, and what they gave: exits repeat (a VMCALL is always 3 bytes, a
// VTL round trip is VMCALL exits only), and turning a BigInt into a Number costs more than the
// rest of the decode.
let lastRax = 0n
let lastStatus = 0
let lastReason = 0
let lastR11 = 0n
let lastLength = 0
/** The last output decoded when it was frozen: the same object again decodes to the same values. */
let lastFrozen: VpExitRegisters | undefined
let lastCpl = 0

/** Fills `into` (reused by hot callers) from TDG.VP.ENTER's output registers. */
export function decodeVpExit(out: VpExitRegisters, into: VpExit = emptyVpExit()): VpExit {
  // A module's shared output for a constant exit (a VMCALL, a preemption): no BigInt compare. The
  // rest is its own function, so that this one stays small enough to inline into the loop.
  if (out !== lastFrozen) decodeRegisters(out)
  into.tdxStatus = lastStatus
  into.reason = lastReason
  into.qualification = out.rcx
  into.gpa = out.r8
  into.instructionLength = lastLength
  into.cpl = lastCpl
  return into
}

/** Decodes `out` into the `last*` values. */
function decodeRegisters(out: VpExitRegisters): void {
  const { rax, r11, r12 } = out
  if (rax !== lastRax) {
    // Comparisons before shifts: every BigInt operation allocates.
    const small = rax >= 0n && rax <= 0xffff_ffffn
    lastStatus = small ? 0 : Number((rax >> 32n) & 0xffff_ffffn)
    lastReason = (small ? Number(rax) : Number(rax & 0xffffn)) & 0xffff
    lastRax = rax
  }
  if (r11 !== lastR11) {
    lastLength = Number((r11 >> 32n) & 0xffff_ffffn)
    lastR11 = r11
  }
  lastCpl = r12 === undefined || r12 === 0n ? 0 : Number(r12 & 3n)
  lastFrozen = Object.isFrozen(out) ? out : undefined
}

export function emptyVpExit(): VpExit {
  return { tdxStatus: 0, reason: 0, qualification: 0n, gpa: 0n, instructionLength: 0, cpl: 0 }
}

/** The L2 ran and exited (a status below TDX_PENDING_INTERRUPT, §6.4 step 6). */
export function l2Ran(exit: VpExit): boolean {
  return exit.tdxStatus < TdxStatus.TDX_PENDING_INTERRUPT
}
