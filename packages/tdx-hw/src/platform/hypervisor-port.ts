import { HypercallCode, decodeHypercallControl } from '@vtl/core'
import type { HypervisorCallResult, HypervisorPort } from '@vtl/core'
import type { HvcallDevice } from '../devices/hvcall-device.js'

/** Output bytes per rep of the rep calls that produce output. */
const OUTPUT_PER_REP: Readonly<Partial<Record<number, number>>> = {
  [HypercallCode.GetVpRegisters]: 16,
  [HypercallCode.CheckSparseGpaPageVtlAccess]: 8,
}
const OUTPUT_FIXED: Readonly<Partial<Record<number, number>>> = {
  [HypercallCode.TranslateVirtualAddress]: 16,
  [HypercallCode.TranslateVirtualAddressEx]: 32,
}

/** Output buffer size of a call, from its code and rep count. */
export function hypercallOutputSize(control: bigint): number {
  const { code, repCount } = decodeHypercallControl(control)
  const perRep = OUTPUT_PER_REP[code]
  if (perRep !== undefined) return Math.min(4096, perRep * repCount)
  return OUTPUT_FIXED[code] ?? 0
}

/**
 * `HypervisorPort` on `/dev/mshv_hvcall`: the engine's host-bound hypercalls issued with
 * MSHV_HVCALL (rep calls resumed on Timeout inside the device). A call outside the allow bitmap
 * throws `HypercallNotAllowedError`: it is a programming error, not a guest-visible status.
 */
export class HwHypervisorPort implements HypervisorPort {
  private readonly hvcall: HvcallDevice

  constructor(hvcall: HvcallDevice) {
    this.hvcall = hvcall
  }

  hypercall(control: bigint, input: Uint8Array): HypervisorCallResult {
    const { result, output } = this.hvcall.call(control, input, hypercallOutputSize(control))
    return output.byteLength === 0 ? { result } : { result, output }
  }
}
