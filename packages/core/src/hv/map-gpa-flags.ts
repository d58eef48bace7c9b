/** `HvMapGpaFlags` (u32) bits (vsm-on-tdx.md §1.4). */
export const HvMapGpaFlags = {
  Readable: 1 << 0,
  Writable: 1 << 1,
  /** KX: supervisor-mode execute when MBEC is on, any execute otherwise. */
  KernelExecutable: 1 << 2,
  /** UX: user-mode execute (only distinct from KX with MBEC). */
  UserExecutable: 1 << 3,
  SupervisorShadowStack: 1 << 4,
  PagingWritability: 1 << 5,
  VerifyPagingWritability: 1 << 6,
  Adjustable: 1 << 15,
} as const

export type HvMapGpaFlagName = keyof typeof HvMapGpaFlags

export const HV_MAP_GPA_PERMISSIONS_NONE = 0
/** R | W | KX | UX. */
export const HV_MAP_GPA_PERMISSIONS_ALL = 0xf
/** Every bit with a meaning; the rest of the u32 is padding. */
export const HV_MAP_GPA_DEFINED_BITS = 0x807f

/** `R W KX UX` style text, `-` for none; unknown bits are shown in hex. */
export function formatMapGpaFlags(flags: number): string {
  const parts: string[] = []
  if (flags & HvMapGpaFlags.Readable) parts.push('R')
  if (flags & HvMapGpaFlags.Writable) parts.push('W')
  if (flags & HvMapGpaFlags.KernelExecutable) parts.push('KX')
  if (flags & HvMapGpaFlags.UserExecutable) parts.push('UX')
  if (flags & HvMapGpaFlags.SupervisorShadowStack) parts.push('SSS')
  if (flags & HvMapGpaFlags.PagingWritability) parts.push('PW')
  if (flags & HvMapGpaFlags.VerifyPagingWritability) parts.push('VPW')
  if (flags & HvMapGpaFlags.Adjustable) parts.push('ADJ')
  const unknown = (flags & ~HV_MAP_GPA_DEFINED_BITS) >>> 0
  if (unknown !== 0) parts.push(`0x${unknown.toString(16)}`)
  return parts.length === 0 ? '-' : parts.join(' ')
}
