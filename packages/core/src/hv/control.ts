import { VtlError } from '../errors/vtl-error.js'
import { checkBool, checkU64, checkUint, formatHex } from './bytes.js'

/**
 * The hypercall input control word (RCX on x64; vsm-on-tdx.md §1.1, abi.md §4.1):
 * code 15:0, fast 16, variable header size 26:17 (qwords), nested 31, rep count 43:32,
 * rep start 59:48. Bits 30:27, 47:44 and 63:60 are reserved.
 */
export interface HypercallControl {
  code: number
  fast: boolean
  /** Size of the variable header in 8-byte units. */
  variableHeaderSize: number
  nested: boolean
  repCount: number
  repStart: number
  /**
   * Reserved bits, in place. Optional when encoding (a test may set them to exercise the
   * dispatcher); always present when decoding, so the dispatcher can decide what to do with them.
   */
  reservedBits?: bigint
}

export type DecodedHypercallControl = Required<HypercallControl>

/** Bits 30:27, 47:44 and 63:60. */
export const HYPERCALL_CONTROL_RESERVED_MASK = 0xf000_f000_7800_0000n
/** The largest rep count or rep start: both are 12-bit fields. */
export const HV_MAX_REP_COUNT = 0xfff

const CONTROL_FIELD = 'HypercallControl'

export function encodeHypercallControl(control: HypercallControl): bigint {
  const { code, fast, variableHeaderSize, nested, repCount, repStart } = control
  checkUint(code, 16, `${CONTROL_FIELD}.code`)
  checkBool(fast, `${CONTROL_FIELD}.fast`)
  checkUint(variableHeaderSize, 10, `${CONTROL_FIELD}.variableHeaderSize`)
  checkBool(nested, `${CONTROL_FIELD}.nested`)
  checkUint(repCount, 12, `${CONTROL_FIELD}.repCount`)
  checkUint(repStart, 12, `${CONTROL_FIELD}.repStart`)
  const reserved = control.reservedBits ?? 0n
  checkU64(reserved, `${CONTROL_FIELD}.reservedBits`)
  if ((reserved & ~HYPERCALL_CONTROL_RESERVED_MASK) !== 0n) {
    throw new VtlError(
      'E_FIELD_RANGE',
      `reservedBits ${formatHex(reserved)} overlaps defined control fields`,
      { field: `${CONTROL_FIELD}.reservedBits` }
    )
  }
  return (
    BigInt(code) |
    (fast ? 1n << 16n : 0n) |
    (BigInt(variableHeaderSize) << 17n) |
    (nested ? 1n << 31n : 0n) |
    (BigInt(repCount) << 32n) |
    (BigInt(repStart) << 48n) |
    reserved
  )
}

/** Never rejects a 64-bit word: reserved bits are reported, not refused (the dispatcher decides). */
export function decodeHypercallControl(word: bigint): DecodedHypercallControl {
  checkU64(word, CONTROL_FIELD)
  // The low 32 bits go through a number: cheaper than five bigint shifts on the hot path.
  const low = Number(word & 0xffff_ffffn)
  const high = Number(word >> 32n)
  return {
    code: low & 0xffff,
    fast: (low & 0x1_0000) !== 0,
    variableHeaderSize: (low >>> 17) & 0x3ff,
    nested: (low & 0x8000_0000) !== 0,
    repCount: high & 0xfff,
    repStart: (high >>> 16) & 0xfff,
    reservedBits: word & HYPERCALL_CONTROL_RESERVED_MASK,
  }
}

/**
 * The hypercall result word (RAX on x64): status 15:0, reps completed 43:32. Bits 31:16 and 63:44
 * are reserved.
 */
export interface HypercallResult {
  status: number
  repsCompleted: number
  /** Reserved bits in place; optional when encoding, always present when decoding. */
  reservedBits?: bigint
}

export type DecodedHypercallResult = Required<HypercallResult>

export const HYPERCALL_RESULT_RESERVED_MASK = 0xffff_f000_ffff_0000n

const RESULT_FIELD = 'HypercallResult'

export function encodeHypercallResult(result: HypercallResult): bigint {
  checkUint(result.status, 16, `${RESULT_FIELD}.status`)
  checkUint(result.repsCompleted, 12, `${RESULT_FIELD}.repsCompleted`)
  const reserved = result.reservedBits ?? 0n
  checkU64(reserved, `${RESULT_FIELD}.reservedBits`)
  if ((reserved & ~HYPERCALL_RESULT_RESERVED_MASK) !== 0n) {
    throw new VtlError(
      'E_FIELD_RANGE',
      `reservedBits ${formatHex(reserved)} overlaps result fields`,
      {
        field: `${RESULT_FIELD}.reservedBits`,
      }
    )
  }
  return BigInt(result.status) | (BigInt(result.repsCompleted) << 32n) | reserved
}

export function decodeHypercallResult(word: bigint): DecodedHypercallResult {
  checkU64(word, RESULT_FIELD)
  return {
    status: Number(word & 0xffffn),
    repsCompleted: Number((word >> 32n) & 0xfffn),
    reservedBits: word & HYPERCALL_RESULT_RESERVED_MASK,
  }
}
