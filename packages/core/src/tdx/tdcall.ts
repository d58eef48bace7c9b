import { VtlError } from '../errors/vtl-error.js'
import { encodeGpaOperand, type GpaOperand } from './gpa-operand.js'
import { encodeTdxGlaEntry, encodeTdxGlaListInfo } from './gla-list.js'
import type { TdxGlaEntry, TdxGlaListInfo } from './gla-list.js'
import { TdcallLeaf } from './leaf.js'
import { checkInt, checkReserved, checkU64 } from './u64.js'
import {
  encodeTdxGlaVmAndFlags,
  encodeTdxVmFlags,
  type L2VmIndex,
  type TdxGlaVmAndFlags,
  type TdxVmFlags,
} from './vm-flags.js'

/**
 * One TDCALL as the paravisor issues it: the request shared by the simulator's software TDX
 * module and the hardware backend (`MSHV_VTL_TDCALL` carries RAX..R9 in, R10/R11 out).
 * R10–R15 are always 0 on input: the kernel refuses anything else (vsm-on-tdx.md §6.5).
 */
export interface TdcallInput {
  /** RAX bits 15:0 (version 0). */
  leaf: number
  rcx: bigint
  rdx: bigint
  r8: bigint
  r9: bigint
}

/** The registers a TDCALL returns; `rax` holds the completion status (see `tdxStatusCode`). */
export interface TdcallOutput {
  rax: bigint
  rcx: bigint
  rdx: bigint
  r8: bigint
  r9: bigint
  r10: bigint
  r11: bigint
  /** TDG.VP.ENTER only: R12[1:0] is the L2's CPL at the exit (absent: 0). */
  r12?: bigint
}

function input(leaf: number, rcx = 0n, rdx = 0n, r8 = 0n, r9 = 0n): TdcallInput {
  return { leaf, rcx, rdx, r8, r9 }
}

/** TDG.MEM.PAGE.ACCEPT: RCX = level | GPN. */
export function tdgMemPageAccept(operand: GpaOperand): TdcallInput {
  return input(TdcallLeaf['TDG.MEM.PAGE.ACCEPT'], encodeGpaOperand(operand))
}

/** TDG.MEM.PAGE.RELEASE (TDX Connect): RCX = level | GPN. */
export function tdgMemPageRelease(operand: GpaOperand): TdcallInput {
  return input(TdcallLeaf['TDG.MEM.PAGE.RELEASE'], encodeGpaOperand(operand))
}

/** TDG.MEM.PAGE.ATTR.RD: RCX = the page's GPA (4 KiB aligned, below 2^52). */
export function tdgMemPageAttrRd(gpa: bigint): TdcallInput {
  checkU64(gpa, 'gpa')
  checkReserved(gpa, ~0x000f_ffff_ffff_f000n & 0xffff_ffff_ffff_ffffn, 'gpa')
  return input(TdcallLeaf['TDG.MEM.PAGE.ATTR.RD'], gpa)
}

/**
 * TDG.MEM.PAGE.ATTR.WR: RCX = level | GPN, RDX = new GPA_ATTR, R8 = ATTR_FLAGS (per-slot mask and
 * INVEPT). Slot 0 (L1) of both words must be 0: an L1 VMM cannot change its own attributes.
 */
export function tdgMemPageAttrWr(operand: GpaOperand, attr: bigint, mask: bigint): TdcallInput {
  checkU64(attr, 'attr')
  checkU64(mask, 'mask')
  checkReserved(attr, 0xffffn, 'attr')
  checkReserved(mask, 0xffffn, 'mask')
  return input(TdcallLeaf['TDG.MEM.PAGE.ATTR.WR'], encodeGpaOperand(operand), attr, mask)
}

/** TDG.VP.RD: RDX = field id → R8 = value. */
export function tdgVpRd(fieldId: bigint): TdcallInput {
  checkU64(fieldId, 'fieldId')
  return input(TdcallLeaf['TDG.VP.RD'], 0n, fieldId)
}

/** TDG.VP.WR: RDX = field id, R8 = value, R9 = write mask → R8 = old value. */
export function tdgVpWr(fieldId: bigint, value: bigint, mask: bigint): TdcallInput {
  checkU64(fieldId, 'fieldId')
  checkU64(value, 'value')
  checkU64(mask, 'mask')
  return input(TdcallLeaf['TDG.VP.WR'], 0n, fieldId, value, mask)
}

/** TDG.VM.RD: RDX = field id → R8 = value. */
export function tdgVmRd(fieldId: bigint): TdcallInput {
  checkU64(fieldId, 'fieldId')
  return input(TdcallLeaf['TDG.VM.RD'], 0n, fieldId)
}

/** TDG.VM.WR: RDX = field id, R8 = value, R9 = write mask → R8 = old value. */
export function tdgVmWr(fieldId: bigint, value: bigint, mask: bigint): TdcallInput {
  checkU64(fieldId, 'fieldId')
  checkU64(value, 'value')
  checkU64(mask, 'mask')
  return input(TdcallLeaf['TDG.VM.WR'], 0n, fieldId, value, mask)
}

/** TDG.SYS.RD: RDX = field id → R8 = value (e.g. TDX_FEATURES0). */
export function tdgSysRd(fieldId: bigint): TdcallInput {
  checkU64(fieldId, 'fieldId')
  return input(TdcallLeaf['TDG.SYS.RD'], 0n, fieldId)
}

/**
 * TDG.VP.ENTER: RCX = `TdxVmFlags`, RDX = GPA of the private `L2_ENTER_GUEST_STATE`, which must
 * be 256-byte aligned. On OpenHCL the kernel issues this call; the simulator issues it directly.
 */
export function tdgVpEnter(flags: TdxVmFlags, guestStateGpa: bigint): TdcallInput {
  checkU64(guestStateGpa, 'guestStateGpa')
  if ((guestStateGpa & 0xffn) !== 0n) {
    throw new VtlError(
      'E_UNALIGNED',
      `L2_ENTER_GUEST_STATE GPA 0x${guestStateGpa.toString(16)} is not 256-byte aligned`,
      { field: 'guestStateGpa' }
    )
  }
  return input(TdcallLeaf['TDG.VP.ENTER'], encodeTdxVmFlags(flags), guestStateGpa)
}

/** TDG.VP.INVEPT: RCX = bitmap of the L2 VMs whose EPT translations to flush (bit 0 = L1 is 0). */
export function tdgVpInvept(vmIndexes: readonly L2VmIndex[]): TdcallInput {
  let bitmap = 0n
  for (const vmIndex of vmIndexes) {
    checkInt(vmIndex, 1, 3, 'vmIndex')
    bitmap |= 1n << BigInt(vmIndex)
  }
  return input(TdcallLeaf['TDG.VP.INVEPT'], bitmap)
}

/**
 * TDG.VP.INVGLA: RCX = `TdxGlaVmAndFlags`, RDX = one GLA entry (`list` clear) or a
 * `TdxGlaListInfo` (`list` set). The operand kind must agree with `flags.list`.
 */
export function tdgVpInvgla(
  flags: TdxGlaVmAndFlags,
  operand: TdxGlaEntry | TdxGlaListInfo
): TdcallInput {
  const isList = 'listGpn' in operand
  if (isList !== flags.list) {
    throw new VtlError(
      'E_INVALID_VALUE',
      flags.list
        ? 'INVGLA list flag set but a single GLA entry given'
        : 'INVGLA list given without the list flag',
      { field: 'list' }
    )
  }
  const rdx = isList ? encodeTdxGlaListInfo(operand) : encodeTdxGlaEntry(operand)
  return input(TdcallLeaf['TDG.VP.INVGLA'], encodeTdxGlaVmAndFlags(flags), rdx)
}
