import { z } from 'zod'
import { HvMapGpaFlags, type HvMapGpaFlagName } from '../hv/map-gpa-flags.js'
import { U32Schema } from './numbers.js'

/** Short names accepted next to the `HvMapGpaFlags` names. */
const SHORT: Readonly<Record<string, HvMapGpaFlagName>> = {
  R: 'Readable',
  W: 'Writable',
  KX: 'KernelExecutable',
  UX: 'UserExecutable',
  SSS: 'SupervisorShadowStack',
  PW: 'PagingWritability',
  VPW: 'VerifyPagingWritability',
  ADJ: 'Adjustable',
}

const LONG = Object.keys(HvMapGpaFlags) as HvMapGpaFlagName[]

export const MapGpaFlagNameSchema = z.enum([...LONG, ...Object.keys(SHORT)] as [
  string,
  ...string[],
])

function bitOf(name: string): number {
  const long = SHORT[name] ?? (name as HvMapGpaFlagName)
  return HvMapGpaFlags[long]
}

/**
 * `HvMapGpaFlags` as a number (or hex string), or as a list of names: `["R", "W", "KX", "UX"]` or
 * `["Readable", "Writable"]`. Becomes the u32; written back as a number.
 */
export const MapGpaFlagsSchema = z.codec(
  z.union([z.array(MapGpaFlagNameSchema), U32Schema.in]),
  z.int().min(0).max(0xffff_ffff),
  {
    decode: (value) => {
      if (Array.isArray(value)) return value.reduce((acc, name) => (acc | bitOf(name)) >>> 0, 0)
      return typeof value === 'number' ? value : Number(value)
    },
    encode: (value) => value,
  }
)
