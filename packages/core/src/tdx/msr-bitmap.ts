import { VtlError } from '../errors/vtl-error.js'
import type { GuestVtl } from '../hv/vtl.js'
import { TdVpsClassCode, TdxFieldSize, tdVpsFieldId } from './metadata-field.js'
import { checkInt } from './u64.js'

/**
 * The VMX MSR bitmap as the TDX module exposes it: 512 u64 words per L2 VM (one 4 KiB page),
 * read-low at word 0x00, read-high at 0x80, write-low at 0x100, write-high at 0x180. A set bit
 * intercepts the access; OpenHCL's default bitmap intercepts everything.
 */
export const MSR_BITMAP_WORDS = 512

/** Where an MSR's intercept bit lives: `word` (0..511) and `bit` (0..63) inside it. */
export interface MsrBitmapPosition {
  word: number
  bit: number
}

/**
 * OpenHCL's `set_msr_bit` arithmetic (vsm-on-tdx.md §6.2): word = (msr & 0xFFFF) / 64, + 0x80 for
 * MSRs 0xC0000000–0xC0001FFF, + 0x100 for the write half; bit = msr & 0x3F. MSRs outside
 * 0–0x1FFF and 0xC0000000–0xC0001FFF have no bit (VMX always intercepts them): `E_FIELD_RANGE`.
 */
export function msrBitmapPosition(msr: number, write: boolean): MsrBitmapPosition {
  checkInt(msr, 0, 0xffff_ffff, 'msr')
  let word: number
  if (msr <= 0x1fff) {
    word = msr >>> 6
  } else if (msr >= 0xc000_0000 && msr <= 0xc000_1fff) {
    word = 0x80 + ((msr & 0xffff) >>> 6)
  } else {
    throw new VtlError(
      'E_FIELD_RANGE',
      `MSR 0x${msr.toString(16)} is outside both MSR bitmap ranges`,
      { field: 'msr' }
    )
  }
  return { word: write ? word + 0x100 : word, bit: msr & 0x3f }
}

/** TDG.VP.RD/WR field id of MSR bitmap word `word` of `vtl` (class MSR_BITMAPS_1 / _2, 64-bit). */
export function msrBitmapFieldId(vtl: GuestVtl, word: number): bigint {
  checkInt(word, 0, MSR_BITMAP_WORDS - 1, 'word')
  checkInt(vtl, 0, 1, 'vtl')
  const classCode = vtl === 0 ? TdVpsClassCode.MSR_BITMAPS_1 : TdVpsClassCode.MSR_BITMAPS_2
  return tdVpsFieldId(classCode, word, TdxFieldSize.Size64Bit)
}

/**
 * The TDG.VP.WR operands that set (`intercept`) or clear one MSR's bit, with a single-bit mask so
 * the other 63 bits of the word stay as they are.
 */
export function msrBitmapWrite(
  vtl: GuestVtl,
  msr: number,
  write: boolean,
  intercept: boolean
): { fieldId: bigint; value: bigint; mask: bigint } {
  const { word, bit } = msrBitmapPosition(msr, write)
  const mask = 1n << BigInt(bit)
  return { fieldId: msrBitmapFieldId(vtl, word), value: intercept ? mask : 0n, mask }
}
