// `@vtl/core/schemas`: zod schemas for scenario files and API bodies. 64-bit values are strings on
// the wire and bigints inside; every schema here exports to JSON Schema with `io: 'input'`.
export {
  HEX_U64_PATTERN,
  NUMERIC_STRING_PATTERN,
  formatHex,
  HexU64Schema,
  U64Schema,
  uintSchema,
  U8Schema,
  U16Schema,
  U32Schema,
  NumberOrHexSchema,
} from './numbers.js'
export { VtlSchema, GuestVtlSchema } from './vtl.js'
export { BYTE_SIZE_PATTERN, formatByteSize, ByteSizeSchema } from './byte-size.js'
export { gpaRangeSchema, GpaRangeSchema, refineGpaRange } from './gpa-range.js'
export { SegmentRegisterSchema, TableRegisterSchema, InitialVpContextSchema } from './context.js'
export { MapGpaFlagNameSchema, MapGpaFlagsSchema } from './map-gpa-flags.js'
export { PartitionIdSchema, VpIndexSchema } from './ids.js'
