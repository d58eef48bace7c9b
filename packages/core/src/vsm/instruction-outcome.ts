import type { HvStatus } from '../hv/status.js'
import type { GuestVtl } from '../hv/vtl.js'
import { Efer } from '../x86/register-bits.js'
import type { VsmEngine } from './engine.js'
import type { InterceptHeaderFields } from './intercept-messages.js'
import { postInterceptMessage } from './intercept-post.js'
import { advanceRip } from './registers.js'
import type { VsmVp } from './vp.js'

/**
 * What an intercepted-or-performed instruction did. `intercepted`: the message went (or tried to
 * go, `status` ≠ Success) to VTL1's SINT0; the instruction was not performed and RIP stays.
 * `performed`: it took effect and RIP moved past it (`value`: what IN/RDMSR read). `exception`:
 * the CPU refused it with #GP(0), injected into the acting VTL; RIP stays.
 */
export type InstructionOutcome =
  | { kind: 'intercepted'; status: HvStatus; message: Uint8Array }
  | { kind: 'performed'; value?: bigint }
  | { kind: 'exception'; vector: 13 }

const GENERAL_PROTECTION = 13

/** The intercept header OpenHCL's TDX `intercept_message_state` fills for VTL0 on this VP. */
export function interceptHeader(
  vp: VsmVp,
  instructionLength: number,
  accessType: 0 | 1
): InterceptHeaderFields {
  const regs = vp.vtls[0].registers
  return {
    vpIndex: vp.index,
    instructionLength,
    accessType,
    cpl: regs.cs.selector & 3,
    vtl: 0,
    eferLma: (regs.efer & Efer.LMA) !== 0n,
    cs: regs.cs,
    rip: regs.rip,
    rflags: regs.rflags,
  }
}

/** Post `message` to VTL1's SINT0: the instruction is not performed, RIP stays. */
export function intercept(engine: VsmEngine, vp: VsmVp, message: Uint8Array): InstructionOutcome {
  return { kind: 'intercepted', status: postInterceptMessage(engine, vp.index, message), message }
}

/** #GP(0) into the acting VTL; RIP stays. */
export function gp(engine: VsmEngine, vp: VsmVp, vtl: GuestVtl): InstructionOutcome {
  engine.ports.vp.injectException(vp.index, vtl, { vector: GENERAL_PROTECTION, errorCode: 0 })
  return { kind: 'exception', vector: GENERAL_PROTECTION }
}

/** RIP past the performed instruction. */
export function advance(vp: VsmVp, vtl: GuestVtl, length: number): void {
  advanceRip(vp.vtls[vtl].registers, length)
}

/** VTL1 watches this VP's VTL0 (VTL1 Active on it): CR and MSR intercepts apply (§13.16). */
export function registerIntercepts(vp: VsmVp, vtl: GuestVtl): bigint | undefined {
  return vtl === 0 ? vp.vtl1?.regIntercept.interceptControl : undefined
}
