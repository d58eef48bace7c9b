import { makeTdxStatus, type TdcallOutput } from '@vtl/core'

/** A TDCALL's output registers: `rax` plus whichever others the leaf sets (the rest 0). */
export function out(rax: bigint, regs: Partial<Omit<TdcallOutput, 'rax'>> = {}): TdcallOutput {
  return {
    rax,
    rcx: regs.rcx ?? 0n,
    rdx: regs.rdx ?? 0n,
    r8: regs.r8 ?? 0n,
    r9: regs.r9 ?? 0n,
    r10: regs.r10 ?? 0n,
    r11: regs.r11 ?? 0n,
  }
}

/** A failed TDCALL: RAX = `code` << 32 | `operand` (the operand id in the details), the rest 0. */
export function fail(code: number, operand = 0): TdcallOutput {
  return out(makeTdxStatus(code, operand))
}

/** RAX of a successful TDCALL. */
export const SUCCESS = 0n
