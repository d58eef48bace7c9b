import { VtlEntryReason } from '../../hv/vp-assist-page.js'
import type { VsmEngine } from '../engine.js'
import { setEntryReason, setVinaStatus, vtlReturnRegisters } from '../overlay-pages.js'
import { advanceRip } from '../registers.js'

/** Length of VMCALL (0F 01 C1), the instruction in the hypercall page on Intel. */
export const VMCALL_LENGTH = 3n
/** `VMCALL_LENGTH` as a number, as `advanceRip` takes it. */
export const VMCALL_BYTES = Number(VMCALL_LENGTH)
const CODE_MASK = 0xffffn

// The checks below compare instead of masking: each BigInt operation allocates, and these run on
// every VTL round trip.

/** `(control & ~CODE_MASK) !== 0n`: a bit other than the call code is set. */
function hasNonCodeBits(control: bigint): boolean {
  return control < 0n || control > CODE_MASK
}

/** VINA config bit 9 (`auto_reset`). */
const VINA_AUTO_RESET = 1n << 9n

/**
 * `raise_vtl(VTL0 → VTL1, reason)`: on TDX switching only sets `exit_vtl`; the entry reason goes
 * into VTL1's VP assist page.
 */
export function raiseVtl(engine: VsmEngine, vpIndex: number, reason: number): void {
  const vp = engine.vp(vpIndex)
  vp.exitVtl = 1
  setEntryReason(engine, vp, reason)
}

/**
 * HvCallVtlCall (§7.2): `control` is the whole control word, `input` RAX (64-bit mode) or RCX
 * (32-bit mode). Returns false when the guest gets #UD (RIP unchanged, no status written).
 */
export function vtlCall(
  engine: VsmEngine,
  vpIndex: number,
  control: bigint,
  input: bigint
): boolean {
  const vp = engine.vp(vpIndex)
  // Every bit except the call code must be 0 (fast, reps, variable header included); input 0;
  // caller in VTL0 with VTL1 Active on this VP.
  if (hasNonCodeBits(control) || input !== 0n) return false
  if (vp.exitVtl !== 0 || vp.vtl1 === undefined) return false
  advanceRip(vp.vtls[0].registers, VMCALL_BYTES)
  raiseVtl(engine, vpIndex, VtlEntryReason.VtlCall)
  return true
}

/**
 * HvCallVtlReturn (§7.2). Input bit 0 is "fast return"; any other bit, a non-zero control field or
 * a VTL0 caller gets #UD (false).
 */
export function vtlReturn(
  engine: VsmEngine,
  vpIndex: number,
  control: bigint,
  input: bigint
): boolean {
  const vp = engine.vp(vpIndex)
  // `input & ~1n` is 0 exactly for 0 and 1.
  if (hasNonCodeBits(control) || (input !== 0n && input !== 1n)) return false
  if (vp.exitVtl === 0) return false
  const fast = input === 1n
  const vtl1 = vp.vtls[1]
  advanceRip(vtl1.registers, VMCALL_BYTES)
  // Release every TLB lock VTL1 holds on this VP (it locks VTL0's TLB).
  if (engine.shared.tlbLocked(vpIndex, 0)) engine.shared.setTlbLocked(vpIndex, 0, false)
  const vina = vtl1.synic.vina
  if (vina !== 0n && (vina & VINA_AUTO_RESET) !== 0n) setVinaStatus(engine, vp, 0)
  vp.exitVtl = 0
  if (!fast) {
    // Into the shared RAX/RCX; without an assist page OpenHCL copies zeros (§13.9).
    const registers = vp.assistPageEnabled(1) ? vtlReturnRegisters(engine, vp) : undefined
    vp.shared.rax = registers?.[0] ?? 0n
    vp.shared.rcx = registers?.[1] ?? 0n
  }
  return true
}
