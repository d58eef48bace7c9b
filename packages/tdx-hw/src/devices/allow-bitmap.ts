import { HypercallCode, VtlError } from '@vtl/core'
import { MSHV_HVCALL_BITMAP_MAX_BYTES } from '../uapi/mshv-requests.js'

/**
 * The hypercalls OpenHCL lets through `/dev/mshv_hvcall` (abi.md §1.8 step 2); on a hardware-
 * isolated partition (TDX, SNP) also EnablePartitionVtl, EnableVpVtl and RetargetDeviceInterrupt.
 */
export function defaultAllowedHypercalls(
  options: { hardwareIsolated?: boolean; mmio?: boolean } = {}
): number[] {
  const codes: number[] = [
    HypercallCode.GetVpRegisters,
    HypercallCode.SetVpRegisters,
    HypercallCode.InstallIntercept,
    HypercallCode.TranslateVirtualAddress,
    HypercallCode.TranslateVirtualAddressEx,
    HypercallCode.PostMessageDirect,
    HypercallCode.SignalEventDirect,
    HypercallCode.ModifyVtlProtectionMask,
    HypercallCode.CheckSparseGpaPageVtlAccess,
    HypercallCode.AssertVirtualInterrupt,
    HypercallCode.GetVpIndexFromApicId,
    HypercallCode.AcceptGpaPages,
    HypercallCode.ModifySparseGpaPageHostVisibility,
  ]
  if (options.hardwareIsolated !== false) {
    codes.push(
      HypercallCode.EnablePartitionVtl,
      HypercallCode.EnableVpVtl,
      HypercallCode.RetargetDeviceInterrupt
    )
  }
  if (options.mmio === true) {
    codes.push(HypercallCode.MemoryMappedIoRead, HypercallCode.MemoryMappedIoWrite)
  }
  return codes
}

/**
 * The allow bitmap: bit `code % 8` of byte `code / 8` (the same bits as openvmm's `u64` words,
 * little-endian), sized up to whole u64 words. Larger than 8192 bytes → `E_FIELD_RANGE`.
 */
export function encodeAllowBitmap(codes: readonly number[]): Uint8Array {
  let max = 0
  for (const code of codes) {
    if (!Number.isInteger(code) || code < 0 || code > 0xffff) {
      throw new VtlError('E_FIELD_RANGE', `hypercall code ${code} is not a u16`, { field: 'code' })
    }
    max = Math.max(max, code)
  }
  const size = Math.ceil((max + 1) / 64) * 8
  if (size > MSHV_HVCALL_BITMAP_MAX_BYTES) {
    throw new VtlError(
      'E_FIELD_RANGE',
      `allow bitmap of ${size} bytes exceeds ${MSHV_HVCALL_BITMAP_MAX_BYTES}`,
      { field: 'bitmapArraySize' }
    )
  }
  const bitmap = new Uint8Array(size)
  for (const code of codes) bitmap[code >> 3] = (bitmap[code >> 3] ?? 0) | (1 << (code & 7))
  return bitmap
}

export function bitmapAllows(bitmap: Uint8Array, code: number): boolean {
  return ((bitmap[code >> 3] ?? 0) & (1 << (code & 7))) !== 0
}
