/** Linear-address widths: 4-level (48) and 5-level (57) paging. */
export type VaBits = 48 | 57

/**
 * A linear address is canonical when bits 63..(bits-1) all equal bit (bits-1), i.e. it is the
 * sign extension of its low `bits` bits.
 */
export function isCanonicalAddress(value: bigint, bits: VaBits): boolean {
  const top = value >> BigInt(bits - 1)
  return top === 0n || top === (1n << BigInt(65 - bits)) - 1n
}

/**
 * The width the guest's current paging uses (`validate_canonical_address`): 57 bits only with
 * EFER.LMA and CR4.LA57 both set, else 48.
 */
export function pagingVaBits(efer: bigint, cr4: bigint): VaBits {
  const lma = (efer & (1n << 10n)) !== 0n
  const la57 = (cr4 & (1n << 12n)) !== 0n
  return lma && la57 ? 57 : 48
}
