import { VtlError } from '../errors/vtl-error.js'
import { decodeHvInputVtl } from '../hv/input-vtl.js'
import { HvStatus } from '../hv/status.js'
import { parseVtl, type Vtl } from '../hv/vtl.js'

/** Hypercalls whose input carries a raw target_vtl byte (not an HvInputVtl). */
export type RawTargetVtlCall = 'EnablePartitionVtl' | 'EnableVpVtl' | 'StartVirtualProcessor'

export type VtlParse = { ok: true; vtl: Vtl } | { ok: false; status: HvStatus }

/**
 * The status each call's dispatcher returns when its raw target_vtl byte is not 0, 1 or 2: the
 * parse error becomes AccessDenied for EnablePartitionVtl (§3 step 0) but InvalidParameter for
 * EnableVpVtl (§4.1 step 0) and StartVirtualProcessor.
 */
export const RAW_TARGET_VTL_FAULT: Readonly<Record<RawTargetVtlCall, HvStatus>> = {
  EnablePartitionVtl: HvStatus.AccessDenied,
  EnableVpVtl: HvStatus.InvalidParameter,
  StartVirtualProcessor: HvStatus.InvalidParameter,
}

/** Step 0 of EnablePartitionVtl / EnableVpVtl / StartVirtualProcessor. */
export function parseTargetVtlFor(call: RawTargetVtlCall, raw: number): VtlParse {
  if (!Object.hasOwn(RAW_TARGET_VTL_FAULT, call)) {
    throw new VtlError('E_UNKNOWN_NAME', `no raw target_vtl rule for '${call}'`, {
      field: 'call',
    })
  }
  const vtl = parseVtl(raw)
  return vtl === undefined ? { ok: false, status: RAW_TARGET_VTL_FAULT[call] } : { ok: true, vtl }
}

/**
 * An `HvInputVtl` byte resolved against the caller: the explicit VTL, or the caller's own when
 * use_target_vtl is clear. Reserved bits or a value above 2 give InvalidParameter (§1.4, §13.9).
 */
export function resolveInputVtl(byte: number, callerVtl: Vtl): VtlParse {
  const decoded = decodeHvInputVtl(byte)
  if (!decoded.ok) return { ok: false, status: HvStatus.InvalidParameter }
  return { ok: true, vtl: decoded.target ?? callerVtl }
}
