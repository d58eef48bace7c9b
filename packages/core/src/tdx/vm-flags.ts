import { VtlError } from '../errors/vtl-error.js'
import { checkInt, checkReserved, checkU64 } from './u64.js'

/** An L2 VM index: 1..3 (0 is L1, which TDG.VP.ENTER and INVGLA cannot name). */
export type L2VmIndex = 1 | 2 | 3

function checkVmIndex(vmIndex: number): void {
  checkInt(vmIndex, 1, 3, 'vmIndex')
}

function readVmIndex(word: bigint, field: string): L2VmIndex {
  const vmIndex = Number((word >> 52n) & 3n)
  if (vmIndex === 0) {
    throw new VtlError('E_FIELD_RANGE', `${field} names VM index 0 (L1)`, { field })
  }
  return vmIndex as L2VmIndex
}

/** TDG.VP.ENTER RCX bits 1:0: which TLB invalidation the module does before entering. */
export const TdxInvdTranslations = {
  NONE: 0,
  /** Single-context INVEPT: TLB and paging-structure caches. */
  INVEPT: 1,
  /** Single-context INVVPID: TLB only. */
  INVVPID: 2,
  /** Single-context INVVPID that keeps global translations. */
  INVVPID_NON_GLOBAL: 3,
} as const
export type TdxInvdTranslations = (typeof TdxInvdTranslations)[keyof typeof TdxInvdTranslations]

/** `TdxVmFlags`: TDG.VP.ENTER RCX (TDX module `vm_and_flags_t`; abi.md §3.6). */
export interface TdxVmFlags {
  invdTranslations: TdxInvdTranslations
  /** 1-based: VTL0 = 1, VTL1 = 2. */
  vmIndex: L2VmIndex
}

// 51:2 and 63:54.
const VM_FLAGS_RESERVED = (((1n << 50n) - 1n) << 2n) | (((1n << 10n) - 1n) << 54n)

export function encodeTdxVmFlags(flags: TdxVmFlags): bigint {
  checkInt(flags.invdTranslations, 0, 3, 'invdTranslations')
  checkVmIndex(flags.vmIndex)
  return BigInt(flags.invdTranslations) | (BigInt(flags.vmIndex) << 52n)
}

export function decodeTdxVmFlags(rcx: bigint): TdxVmFlags {
  checkU64(rcx, 'TdxVmFlags')
  checkReserved(rcx, VM_FLAGS_RESERVED, 'TdxVmFlags')
  return {
    invdTranslations: Number(rcx & 3n) as TdxInvdTranslations,
    vmIndex: readVmIndex(rcx, 'TdxVmFlags'),
  }
}

/**
 * `TdxL2Ctls`: the TDVPS L2_CTLS field of one L2 VM. OpenHCL sets it for VM #1 (VTL0) only;
 * VTL1 gets neither shared EPT nor direct TDVMCALLs (vsm-on-tdx.md §6.1).
 */
export interface TdxL2Ctls {
  /** Bit 0: the L2 VM may use shared (host-visible) GPAs. */
  enableSharedEpt: boolean
  /** Bit 1: the L2 VM's TDG.VP.VMCALL goes to the host instead of exiting to L1. */
  enableTdvmcall: boolean
}

const L2_CTLS_RESERVED = ~3n & 0xffff_ffff_ffff_ffffn

export function encodeTdxL2Ctls(ctls: TdxL2Ctls): bigint {
  return (ctls.enableSharedEpt ? 1n : 0n) | (ctls.enableTdvmcall ? 2n : 0n)
}

export function decodeTdxL2Ctls(value: bigint): TdxL2Ctls {
  checkU64(value, 'TdxL2Ctls')
  checkReserved(value, L2_CTLS_RESERVED, 'TdxL2Ctls')
  return { enableSharedEpt: (value & 1n) !== 0n, enableTdvmcall: (value & 2n) !== 0n }
}

/** `TdGlaVmAndFlags`: TDG.VP.INVGLA RCX. */
export interface TdxGlaVmAndFlags {
  /** Bit 0: RDX is a `TdxGlaListInfo` (a list of GLA entries in memory), not one GLA entry. */
  list: boolean
  /** Bits 53:52. */
  vmIndex: L2VmIndex
}

// 51:1 and 63:54.
const GLA_FLAGS_RESERVED = (((1n << 51n) - 1n) << 1n) | (((1n << 10n) - 1n) << 54n)

export function encodeTdxGlaVmAndFlags(flags: TdxGlaVmAndFlags): bigint {
  checkVmIndex(flags.vmIndex)
  return (flags.list ? 1n : 0n) | (BigInt(flags.vmIndex) << 52n)
}

export function decodeTdxGlaVmAndFlags(rcx: bigint): TdxGlaVmAndFlags {
  checkU64(rcx, 'TdxGlaVmAndFlags')
  checkReserved(rcx, GLA_FLAGS_RESERVED, 'TdxGlaVmAndFlags')
  return { list: (rcx & 1n) !== 0n, vmIndex: readVmIndex(rcx, 'TdxGlaVmAndFlags') }
}
