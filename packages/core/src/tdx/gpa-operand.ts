import { VtlError } from '../errors/vtl-error.js'
import { checkInt } from './u64.js'

/** Mapping level of a TDX GPA operand: 0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB (abi.md §3.4). */
export type PageLevel = 0 | 1 | 2

export const PAGE_LEVEL_4K = 0 as const
export const PAGE_LEVEL_2M = 1 as const
export const PAGE_LEVEL_1G = 2 as const

/** Pages of 4 KiB covered by one mapping at each level. */
export const PAGES_PER_LEVEL: Readonly<Record<PageLevel, bigint>> = {
  0: 1n,
  1: 512n,
  2: 262144n,
}

/** The largest GPA page number bits 51:12 can carry. */
export const MAX_OPERAND_GPN = (1n << 40n) - 1n

/** RCX of ACCEPT / ATTR.WR / RELEASE (and ATTR.RD's mapping output). */
export interface GpaOperand {
  level: PageLevel
  /** GPA page number (GPA >> 12). */
  gpn: bigint
}

/** level [2:0] | GPN [51:12]. The GPN must be aligned to the level. */
export function encodeGpaOperand(operand: GpaOperand): bigint {
  const { level, gpn } = operand
  // Typed callers cannot pass another level; untyped ones (scenario files, FFI) can.
  checkInt(level, 0, 2, 'level')
  if (gpn < 0n || gpn > MAX_OPERAND_GPN) {
    throw new VtlError('E_FIELD_RANGE', `GPN 0x${gpn.toString(16)} does not fit bits 51:12`, {
      field: 'gpn',
    })
  }
  if (gpn % PAGES_PER_LEVEL[level] !== 0n) {
    throw new VtlError(
      'E_UNALIGNED',
      `GPN 0x${gpn.toString(16)} is not aligned to level ${level}`,
      { field: 'gpn' }
    )
  }
  return (gpn << 12n) | BigInt(level)
}

/**
 * Reads level and GPN back. Reserved bits 11:3 must be clear; bits 63:52 are returned as
 * `flags` (ATTR.RD reports PENDING in bit 62, RELEASE reports MMIO in bit 61).
 */
export function decodeGpaOperand(rcx: bigint): GpaOperand & { flags: bigint } {
  if (rcx < 0n || rcx > 0xffff_ffff_ffff_ffffn) {
    throw new VtlError('E_FIELD_RANGE', 'GPA operand must be an unsigned 64-bit value', {
      field: 'rcx',
    })
  }
  const level = Number(rcx & 7n)
  if (level > 2) {
    throw new VtlError('E_FIELD_RANGE', `page level ${level} is reserved`, { field: 'level' })
  }
  if ((rcx & 0xff8n) !== 0n) {
    throw new VtlError('E_RESERVED_BITS', 'GPA operand bits 11:3 are reserved', { field: 'rcx' })
  }
  return { level: level as PageLevel, gpn: (rcx >> 12n) & MAX_OPERAND_GPN, flags: rcx >> 52n }
}
