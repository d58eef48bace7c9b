import type { AccessKind } from './page-walk.js'

interface ExitAt {
  /** RIP of the instruction that exited (precise). */
  rip: bigint
  /** Its length: what RIP advances by when the exit is completed. */
  length: number
}

/**
 * Why `enter()` returned: the exits the L1 VMM (the paravisor) sees from an L2 guest on TDX.
 * Trapping instructions exit *before* they execute; completing them is the handler's job.
 */
export type X86Exit =
  | ({ kind: 'vmcall' } & ExitAt)
  | ({ kind: 'hlt'; interruptsEnabled: boolean } & ExitAt)
  | ({
      kind: 'io'
      direction: 'in' | 'out'
      port: number
      size: 1 | 2 | 4
      /** OUT: the value written (the low `size` bytes of RAX). */
      value: number | undefined
      /** INS/OUTS: the handler must emulate the string form (memory at RDI/RSI, RCX with REP). */
      string: boolean
      rep: boolean
      /** The port was an immediate operand (else DX). */
      immediate: boolean
    } & ExitAt)
  | ({ kind: 'cpuid'; leaf: number; subleaf: number } & ExitAt)
  | ({ kind: 'rdmsr'; msr: number } & ExitAt)
  | ({ kind: 'wrmsr'; msr: number; value: bigint } & ExitAt)
  | ({ kind: 'cr-write'; cr: 0 | 4; value: bigint; gpr: number } & ExitAt)
  | {
      kind: 'ept-violation'
      rip: bigint
      /** The guest physical address the access reached (exact, not page-aligned). */
      gpa: bigint
      /** The linear address the instruction used. */
      gla: bigint
      access: AccessKind
      /** R/W/X (`PageAccess` bits) this VTL had on the page. */
      pageAccess: number
      /** Length of the instruction that faulted; 0 when unknown (a fetch before it decoded). */
      length: number
      /** The access was pushing an event frame (IDT delivery): this vector is to be re-injected. */
      deliveringVector?: number
    }
  | { kind: 'triple-fault'; rip: bigint }
  | { kind: 'instruction-limit'; rip: bigint }

export type X86ExitKind = X86Exit['kind']

/** An event to deliver through the guest's IDT at the next entry (VM-entry injection). */
export interface X86Event {
  vector: number
  /** Pushed for the exceptions that have one (#DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP). */
  errorCode?: number
  /** INT n / INT3: the gate's DPL is checked against CPL and RIP is already past the instruction. */
  software?: boolean
}
