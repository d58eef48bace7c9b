import type { GuestVtl } from '../../hv/vtl.js'
import { classifyGpa } from '../../tdx/shared-bit.js'
import { VmxExitBasic } from '../../tdx/vmx-exit.js'
import type { VsmEngine } from '../engine.js'
import { advanceRip } from '../registers.js'
import { checkAccess, type AccessKind } from './mem-access.js'
import { handleInstructionExit, type InstructionExit } from './instruction-exit.js'
import { checkMemFault, type MemFault, type MemFaultOutcome } from './mem-fault.js'
import { handleVmcall, type VmcallExit } from './vmcall.js'
import type { VpBackingBase } from './vp-backing.js'
import { l2Ran, type VpExit } from './vp-exit.js'

/** What the loop did with one exit. */
export type ExitOutcome =
  | VmcallExit
  | { kind: 'ept-violation'; fault: MemFault; outcome: MemFaultOutcome }
  /** I/O, MOV to CR0/CR4, RDMSR/WRMSR, XSETBV (§13.16): performed, #GP or intercepted. */
  | InstructionExit
  /** HLT: RIP past it; the VTL halts until an interrupt is injected. */
  | { kind: 'hlt' }
  /** An external interrupt (the host preempted the L2): nothing to do but re-enter. */
  | { kind: 'preempted' }
  /** TDG.VP.ENTER returned a status at or above TDX_PENDING_INTERRUPT: the L2 never ran. */
  | { kind: 'not-run'; tdxStatus: number }
  /** A reason the paravisor does not handle (nothing changed). */
  | { kind: 'unhandled'; reason: number }

const PREEMPTED: ExitOutcome = { kind: 'preempted' }
const HLT: ExitOutcome = { kind: 'hlt' }

/** EPT-violation exit qualification: bit 1 data write, bit 2 instruction fetch, else a read. */
function accessOf(qualification: bigint): AccessKind {
  if ((qualification & 2n) !== 0n) return 'write'
  return (qualification & 4n) !== 0n ? 'execute' : 'read'
}

/**
 * The paravisor's one exit switch (§6.4 step 6, then the VMX exit against the entered VTL). Each
 * case reads what the hardware reports (the exit registers, the guest's registers in the engine,
 * guest RAM and page facts through the backing) and nothing else.
 */
export function handleVpExit(
  engine: VsmEngine,
  backing: VpBackingBase,
  vp: number,
  vtl: GuestVtl,
  exit: VpExit
): ExitOutcome {
  if (!l2Ran(exit)) return { kind: 'not-run', tdxStatus: exit.tdxStatus }
  // VMCALL first, every other exit in its own function: this one stays small enough to inline.
  if (exit.reason === VmxExitBasic.VMCALL) return handleVmcall(engine, backing, vp, exit)
  return handleOtherExit(engine, backing, vp, vtl, exit)
}

/** Every exit but a VMCALL. */
function handleOtherExit(
  engine: VsmEngine,
  backing: VpBackingBase,
  vp: number,
  vtl: GuestVtl,
  exit: VpExit
): ExitOutcome {
  switch (exit.reason) {
    case VmxExitBasic.EPT_VIOLATION: {
      const { canonical, shared } = classifyGpa(exit.gpa, backing.gpaWidth)
      const fault: MemFault = {
        gpa: canonical,
        access: accessOf(exit.qualification),
        instructionLength: exit.instructionLength,
      }
      const page = backing.pageFacts(canonical >> 12n)
      const verdict = checkAccess(
        page,
        shared,
        vtl,
        fault.access,
        exit.cpl === 3,
        backing.mbecCapable
      )
      return {
        kind: 'ept-violation',
        fault,
        outcome: checkMemFault(engine, vp, vtl, fault, verdict),
      }
    }
    case VmxExitBasic.HLT: {
      const state = engine.vp(vp).vtls[vtl]
      advanceRip(state.registers, exit.instructionLength)
      state.apic.activity = 'halted'
      return HLT
    }
    case VmxExitBasic.EXTERNAL_INTERRUPT:
      return PREEMPTED
    default:
      return (
        handleInstructionExit(engine, vp, vtl, exit) ?? { kind: 'unhandled', reason: exit.reason }
      )
  }
}
