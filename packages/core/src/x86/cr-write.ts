import { CR0_HIGH_HALF, CR0_RESERVED_LOW, Cr0, Cr4, Efer } from './register-bits.js'

/** The control state MOV to CR0/CR4 depends on. */
export interface ControlState {
  cr0: bigint
  cr3: bigint
  cr4: bigint
  efer: bigint
  /** CS.L: the code runs in 64-bit mode. */
  csLong: boolean
}

/** What the CPU does with a MOV to CR: the new CR and EFER, or #GP(0). */
export type CrWriteResult = { ok: true; value: bigint; efer: bigint } | { ok: false }

const GP: CrWriteResult = { ok: false }

/**
 * CR0's architectural constraints on a value with its reserved low bits already cleared: no
 * high-half bit, no PG without PE, no NW without CD (MOV to CR0 raises #GP, SetVpRegisters answers
 * InvalidRegisterValue).
 */
export function isValidCr0(cr0: bigint): boolean {
  if ((cr0 & CR0_HIGH_HALF) !== 0n) return false
  if ((cr0 & Cr0.PG) !== 0n && (cr0 & Cr0.PE) === 0n) return false
  return (cr0 & Cr0.NW) === 0n || (cr0 & Cr0.CD) !== 0n
}

/**
 * MOV to CR0 (Intel SDM vol. 2, MOV—Move to/from Control Registers; vol. 3 §2.5). Reserved low bits
 * are ignored and ET reads as 1; #GP(0) for a high-half bit, PG without PE, NW without CD, PG set
 * with EFER.LME and CR4.PAE clear, PG cleared in 64-bit mode, or WP cleared while CR4.CET is set.
 * Turning paging on or off with EFER.LME set activates or leaves IA-32e mode (EFER.LMA).
 */
export function movToCr0(state: ControlState, requested: bigint): CrWriteResult {
  const value = (requested & ~CR0_RESERVED_LOW) | Cr0.ET
  if (!isValidCr0(value)) return GP
  const pg = (value & Cr0.PG) !== 0n
  const wasPg = (state.cr0 & Cr0.PG) !== 0n
  const lme = (state.efer & Efer.LME) !== 0n
  if (pg && !wasPg && lme && (state.cr4 & Cr4.PAE) === 0n) return GP
  if (!pg && wasPg && state.csLong && (state.efer & Efer.LMA) !== 0n) return GP
  if ((value & Cr0.WP) === 0n && (state.cr4 & Cr4.CET) !== 0n) return GP
  const efer = lme && pg ? state.efer | Efer.LMA : state.efer & ~Efer.LMA
  return { ok: true, value, efer }
}

/**
 * MOV to CR4: #GP(0) for a bit outside `allowed` (the bits a lower VTL may set on TDX, §13.11),
 * PAE cleared or LA57 changed in IA-32e mode, PCIDE set outside IA-32e mode or with CR3[11:0] ≠ 0,
 * or CET set while CR0.WP is clear.
 */
export function movToCr4(state: ControlState, value: bigint, allowed: bigint): CrWriteResult {
  if ((value & ~allowed) !== 0n) return GP
  const lma = (state.efer & Efer.LMA) !== 0n
  if (lma && (value & Cr4.PAE) === 0n) return GP
  if (lma && ((value ^ state.cr4) & Cr4.LA57) !== 0n) return GP
  if ((value & Cr4.PCIDE) !== 0n && (state.cr4 & Cr4.PCIDE) === 0n) {
    if (!lma || (state.cr3 & 0xfffn) !== 0n) return GP
  }
  if ((value & Cr4.CET) !== 0n && (state.cr0 & Cr0.WP) === 0n) return GP
  return { ok: true, value, efer: state.efer }
}
