/** `HV_GENERIC_SET_SPARSE_4K`: banks of 64 VPs, a bank present when its bit is set in the mask. */
export const VP_SET_FORMAT_SPARSE_4K = 0n
/** `HV_GENERIC_SET_ALL`: refused by every call the paravisor handles here (§13.17). */
export const VP_SET_FORMAT_ALL = 1n

/**
 * Reads an `HvVpSet` (format u64, valid_bank_mask u64, then one u64 per present bank) at `offset`,
 * the banks running to the end of `view` (the call's variable header). Returns every VP index the
 * set names, or undefined when the format is not sparse or the bank words do not match the mask
 * (`ProcessorSet::from_processor_masks`).
 */
export function readVpSet(view: DataView, offset: number): number[] | undefined {
  if (offset + 16 > view.byteLength) return undefined
  if (view.getBigUint64(offset, true) !== VP_SET_FORMAT_SPARSE_4K) return undefined
  return readBanks(view.getBigUint64(offset + 8, true), view, offset + 16)
}

/** The VPs of `mask`'s banks whose words run from `at` to the end of `view`, or undefined. */
function readBanks(mask: bigint, view: DataView, at: number): number[] | undefined {
  const banks: number[] = []
  for (let bank = 0; bank < 64; bank++) if (((mask >> BigInt(bank)) & 1n) !== 0n) banks.push(bank)
  if (view.byteLength - at !== banks.length * 8) return undefined
  const vps: number[] = []
  banks.forEach((bank, i) => {
    vps.push(...vpsFromMask(view.getBigUint64(at + i * 8, true), bank * 64))
  })
  return vps
}

/** The VP indexes named by one 64-bit processor mask whose bit 0 is VP `base`. */
export function vpsFromMask(mask: bigint, base = 0): number[] {
  const vps: number[] = []
  for (let bit = 0; bit < 64; bit++) if (((mask >> BigInt(bit)) & 1n) !== 0n) vps.push(base + bit)
  return vps
}
