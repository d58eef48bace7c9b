import type { PlanOp } from './plan.js'

/**
 * Executes single plan operations: the simulator's software TDX module, or real TDCALLs through
 * the hardware backend. The contract is the register-level one, so both sinks stay thin:
 *
 * - ACCEPT, ATTR.WR, RELEASE: perform exactly that TDCALL (registers: `tdcallRegisters(op)`) and
 *   return RAX as the TDX module left it (bits 63:32 = the TdxStatus code, 0n = success).
 *   Never retry: the executor owns PAGE_SIZE_MISMATCH splitting and bounded OPERAND_BUSY retries.
 * - map-gpa: tell the host; return 0n once the whole range has the target visibility (a GHCI
 *   RETRY is resumed by the sink, from R11), any other value is a host failure.
 */
export interface PlanSink {
  execute(op: PlanOp): bigint
}
