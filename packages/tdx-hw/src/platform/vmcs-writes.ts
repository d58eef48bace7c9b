import { vmcsFieldBits } from '@vtl/core'

/**
 * Registers that live in the run page, not in the VMCS: the kernel loads them around
 * TDG.VP.ENTER (RIP/RSP/RFLAGS in `l2_enter_guest_state`, the syscall MSRs in `vp_state`).
 * CSTAR and CR8 have no TDX slot (Intel never uses CSTAR in long mode; CR8 is the APIC TPR), so
 * they are kept only in this bank.
 */
export interface RunPageBank {
  rip: bigint
  rsp: bigint
  rflags: bigint
  kernelGsBase: bigint
  star: bigint
  lstar: bigint
  sfmask: bigint
  tscAux: bigint
  cstar: bigint
  cr8: bigint
}

export const RUN_PAGE_BANK_KEYS = [
  'rip',
  'rsp',
  'rflags',
  'kernelGsBase',
  'star',
  'lstar',
  'sfmask',
  'tscAux',
  'cstar',
  'cr8',
] as const satisfies readonly (keyof RunPageBank)[]

export function resetRunPageBank(): RunPageBank {
  return {
    rip: 0xfff0n,
    rsp: 0n,
    rflags: 2n,
    kernelGsBase: 0n,
    star: 0n,
    lstar: 0n,
    sfmask: 0n,
    tscAux: 0n,
    cstar: 0n,
    cr8: 0n,
  }
}

/** The full-width write mask of a field. */
export function vmcsWriteMask(encoding: number): bigint {
  return (1n << BigInt(vmcsFieldBits(encoding))) - 1n
}
