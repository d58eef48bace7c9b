import type { VsmEngine } from '../engine.js'
import type { SharedRegisters } from '../registers.js'
import {
  VTL_CALL_SPEC,
  VTL_RETURN_SPEC,
  dispatchHypercall,
  dispatchVtlSwitch,
  type HypercallOutcome,
  type HypercallRequest,
} from '../dispatch.js'
import { SWITCH_EXITS } from './switch-exits.js'
import type { VpBackingBase } from './vp-backing.js'
import type { VpExit } from './vp-exit.js'

const FAST = 1n << 16n
const VTL_CALL = 0x11n
const VTL_RETURN = 0x12n
const SWITCH_SPECS = [VTL_CALL_SPEC, VTL_RETURN_SPEC] as const

/** A memory call's request: its input is read from guest RAM by a method, not a closure per call. */
class MemoryCall implements HypercallRequest {
  constructor(
    readonly vp: number,
    readonly control: bigint,
    readonly inputGpa: bigint,
    readonly outputGpa: bigint,
    private readonly backing: VpBackingBase
  ) {}

  readInput(length: number): Uint8Array | undefined {
    return this.backing.readGuest(this.inputGpa, length)
  }
}

/**
 * A VMCALL exit as the loop handled it (a VTL switch's is reused for the engine's next identical
 * switch: read it only).
 */
export interface VmcallExit {
  kind: 'vmcall'
  /** The control word (RCX) the guest passed. */
  control: bigint
  /** R8 at the exit: where the output went for a memory call. */
  outputGpa: bigint
  outcome: HypercallOutcome
}

/**
 * The engine's last VtlCall or VtlReturn exit, or a new one: a round trip repeats them (same
 * outcome object, same R8), so the loop hands back the same exit instead of a new one per switch.
 */
function switchExit(
  engine: VsmEngine,
  slot: 0 | 1,
  control: bigint,
  outputGpa: bigint,
  outcome: HypercallOutcome
): VmcallExit {
  const exits = engine[SWITCH_EXITS]
  const last = exits[slot]
  if (last !== undefined && last.outcome === outcome && last.outputGpa === outputGpa) return last
  const exit: VmcallExit = { kind: 'vmcall', control, outputGpa, outcome }
  exits[slot] = exit
  return exit
}

/**
 * The TDX VMCALL exit (§1.5, §7.2, TLFS x64 calling convention): CPL from the exit (≠ 0 → #GP
 * before dispatch); the control word from RCX; VtlCall/VtlReturn input from RAX; a memory call's
 * input read from guest RAM at RDX and its output written at R8; a fast call's input from RDX, R8
 * and XMM0–5. The engine writes the result to RAX and advances RIP where the TLFS says (a
 * completed call or a VTL switch; not a #UD/#GP or a retry).
 */
export function handleVmcall(
  engine: VsmEngine,
  backing: VpBackingBase,
  vp: number,
  exit: VpExit
): VmcallExit {
  const regs = engine.vp(vp).shared
  const control = regs.rcx
  if (exit.cpl === 0 && (control === VTL_CALL || control === VTL_RETURN)) {
    // The VTL switch fast path (input in RAX); any other bits go the general way, where the
    // VtlCall/VtlReturn handlers refuse them.
    const slot = control === VTL_CALL ? 0 : 1
    const outputGpa = regs.r8
    const outcome = dispatchVtlSwitch(engine, vp, SWITCH_SPECS[slot], control, regs.rax)
    if (outcome.kind === 'vtl-switch') return switchExit(engine, slot, control, outputGpa, outcome)
    return { kind: 'vmcall', control, outputGpa, outcome }
  }
  return generalCall(engine, backing, vp, exit.cpl, regs, control)
}

/** A VMCALL other than a VTL switch at CPL 0 (kept apart: the switch path stays inlinable). */
function generalCall(
  engine: VsmEngine,
  backing: VpBackingBase,
  vp: number,
  cpl: number,
  regs: SharedRegisters,
  control: bigint
): VmcallExit {
  const outputGpa = regs.r8
  let outcome: HypercallOutcome
  if (cpl !== 0) {
    outcome = dispatchHypercall(engine, { vp, control, cpl })
  } else if ((control & FAST) !== 0n) {
    outcome = dispatchHypercall(engine, {
      vp,
      control,
      fastRegisters: [regs.rdx, regs.r8, ...backing.xmm(vp)],
    })
  } else {
    const inputGpa = regs.rdx
    outcome = dispatchHypercall(engine, new MemoryCall(vp, control, inputGpa, outputGpa, backing))
    if (outcome.kind === 'completed' && outcome.output !== undefined) {
      backing.writeGuest(outputGpa + BigInt(outcome.outputOffset), outcome.output)
    }
  }
  return { kind: 'vmcall', control, outputGpa, outcome }
}
