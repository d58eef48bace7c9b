import { z } from 'zod'
import { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF } from '../hv/hypercall-code.js'
import { formatHex, NUMERIC_STRING_PATTERN } from './numbers.js'

const numeric = z.union([
  z.int().min(0),
  z.string().regex(NUMERIC_STRING_PATTERN, 'expected a decimal or 0x hex number'),
])

/** A partition id: `"self"` (HV_PARTITION_ID_SELF) or any 64-bit value. */
export const PartitionIdSchema = z.codec(
  z.union([z.literal('self'), numeric]),
  z.bigint().min(0n).max(0xffff_ffff_ffff_ffffn),
  {
    decode: (value) => (value === 'self' ? HV_PARTITION_ID_SELF : BigInt(value)),
    encode: (value) => (value === HV_PARTITION_ID_SELF ? 'self' : formatHex(value)),
  }
)

/** A VP index: `"self"` (HV_VP_INDEX_SELF) or a u32. */
export const VpIndexSchema = z.codec(
  z.union([z.literal('self'), numeric]),
  z.int().min(0).max(0xffff_ffff),
  {
    decode: (value) =>
      value === 'self' ? HV_VP_INDEX_SELF : typeof value === 'number' ? value : Number(value),
    encode: (value) => (value === HV_VP_INDEX_SELF ? 'self' : value),
  }
)
