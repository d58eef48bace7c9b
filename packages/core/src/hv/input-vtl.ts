import { VtlError } from '../errors/vtl-error.js'
import { checkBool, checkUint } from './bytes.js'
import type { Vtl } from './vtl.js'

/**
 * `HvInputVtl` (u8): target_vtl_value 3:0, use_target_vtl 4, reserved 7:5 (vsm-on-tdx.md §1.4).
 * With `useTargetVtl` clear the call targets the caller's own VTL and the value bits are ignored
 * (§13.9).
 */
export interface HvInputVtl {
  targetVtl: number
  useTargetVtl: boolean
}

export const HV_INPUT_VTL_RESERVED_MASK = 0xe0
export const HV_INPUT_VTL_USE_TARGET = 0x10
/** "The caller's own VTL": use_target_vtl clear. */
export const HV_INPUT_VTL_CURRENT = 0x00

/** Why a raw byte does not parse; the caller answers both with HvStatus.InvalidParameter. */
export type HvInputVtlFault = 'reserved-bits' | 'vtl-out-of-range'

export type DecodedHvInputVtl =
  | {
      ok: true
      value: HvInputVtl
      /** The VTL named explicitly, or `undefined` for "the caller's VTL". */
      target: Vtl | undefined
    }
  | { ok: false; reason: HvInputVtlFault }

/**
 * hvdef's `HvInputVtl::target_vtl()`: reserved bits are checked first, then (only when
 * use_target_vtl is set) the value must be 0, 1 or 2. Guest-controlled input, so this returns a
 * reason instead of throwing.
 */
export function decodeHvInputVtl(byte: number): DecodedHvInputVtl {
  checkUint(byte, 8, 'HvInputVtl')
  if ((byte & HV_INPUT_VTL_RESERVED_MASK) !== 0) return { ok: false, reason: 'reserved-bits' }
  const targetVtl = byte & 0x0f
  const useTargetVtl = (byte & HV_INPUT_VTL_USE_TARGET) !== 0
  if (!useTargetVtl) return { ok: true, value: { targetVtl, useTargetVtl }, target: undefined }
  if (targetVtl > 2) return { ok: false, reason: 'vtl-out-of-range' }
  return { ok: true, value: { targetVtl, useTargetVtl }, target: targetVtl as Vtl }
}

/** Any 4-bit value may be encoded, so that tests can build the bytes a misbehaving guest sends. */
export function encodeHvInputVtl(input: HvInputVtl): number {
  checkUint(input.targetVtl, 4, 'HvInputVtl.targetVtl')
  checkBool(input.useTargetVtl, 'HvInputVtl.useTargetVtl')
  return input.targetVtl | (input.useTargetVtl ? HV_INPUT_VTL_USE_TARGET : 0)
}

function isVtl(value: unknown): value is Vtl {
  return value === 0 || value === 1 || value === 2
}

/** The byte for "target exactly this VTL". */
export function hvInputVtlFor(vtl: Vtl): number {
  if (!isVtl(vtl)) {
    throw new VtlError('E_FIELD_RANGE', `VTL must be 0, 1 or 2, got ${String(vtl)}`, {
      field: 'HvInputVtl.targetVtl',
    })
  }
  return HV_INPUT_VTL_USE_TARGET | vtl
}
