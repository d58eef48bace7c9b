/** `HV_GENERIC_SET_SPARSE_4K`: banks of 64 VPs, a bank present when its bit is set in the mask. */
export const VP_SET_FORMAT_SPARSE_4K = 0n
/** `HV_GENERIC_SET_ALL`. */
export const VP_SET_FORMAT_ALL = 1n

/**
 * Reads an `HvVpSet` (format u64, valid_bank_mask u64, then one u64 per present bank) at `offset`.
 * Returns the VP indices below `vpCount`, 'all', or undefined when the set is malformed.
 */
export function readVpSet(
  view: DataView,
  offset: number,
  vpCount: number
): number[] | 'all' | undefined {
  if (offset + 16 > view.byteLength) return undefined
  const format = view.getBigUint64(offset, true)
  if (format === VP_SET_FORMAT_ALL) return 'all'
  if (format !== VP_SET_FORMAT_SPARSE_4K) return undefined
  const mask = view.getBigUint64(offset + 8, true)
  const vps: number[] = []
  let at = offset + 16
  for (let bank = 0; bank < 64; bank++) {
    if (((mask >> BigInt(bank)) & 1n) === 0n) continue
    if (at + 8 > view.byteLength) return undefined
    const bits = view.getBigUint64(at, true)
    at += 8
    for (let bit = 0; bit < 64; bit++) {
      if (((bits >> BigInt(bit)) & 1n) !== 0n && bank * 64 + bit < vpCount)
        vps.push(bank * 64 + bit)
    }
  }
  return vps
}

/** The VPs named by a 64-bit processor mask (the non-Ex calls). */
export function vpsFromMask(mask: bigint, vpCount: number): number[] {
  const vps: number[] = []
  for (let vp = 0; vp < 64 && vp < vpCount; vp++)
    if (((mask >> BigInt(vp)) & 1n) !== 0n) vps.push(vp)
  return vps
}
