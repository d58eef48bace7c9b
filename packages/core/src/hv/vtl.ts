/** A virtual trust level the hypercall ABI can name: 0, 1 or 2 (`Vtl` in hvdef). */
export type Vtl = 0 | 1 | 2
/** A VTL that runs guest code on TDX: VTL0 = L2 VM #1, VTL1 = L2 VM #2 (`GuestVtl` in hcl). */
export type GuestVtl = 0 | 1

export const Vtl0 = 0 as const
export const Vtl1 = 1 as const
export const Vtl2 = 2 as const

/** hvdef's `Vtl::try_from(u8)`: only 0, 1 and 2 parse. Callers map a failure to their own status. */
export function parseVtl(raw: number): Vtl | undefined {
  return raw === 0 || raw === 1 || raw === 2 ? raw : undefined
}

export function isGuestVtl(vtl: number): vtl is GuestVtl {
  return vtl === 0 || vtl === 1
}
