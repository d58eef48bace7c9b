import { z } from 'zod'
import { U16Schema, U32Schema, U64Schema } from './numbers.js'

// The initial VP context in JSON form. Every field may be left out and is then zero, so a scenario
// can write only what it sets (`rip`, `rsp`, `cr0`, `cs`, …). 64-bit values are hex strings.

const ZERO = '0x0'

export const SegmentRegisterSchema = z.strictObject({
  base: U64Schema.prefault(ZERO),
  limit: U32Schema.prefault(0),
  selector: U16Schema.prefault(0),
  attributes: U16Schema.prefault(0),
})

export const TableRegisterSchema = z.strictObject({
  limit: U16Schema.prefault(0),
  base: U64Schema.prefault(ZERO),
})

const segment = SegmentRegisterSchema.prefault({})
const table = TableRegisterSchema.prefault({})

/** `InitialVpContextX64` as JSON; parses to the `InitialVpContextX64` the codecs take. */
export const InitialVpContextSchema = z.strictObject({
  rip: U64Schema.prefault(ZERO),
  rsp: U64Schema.prefault(ZERO),
  rflags: U64Schema.prefault(ZERO),
  cs: segment,
  ds: segment,
  es: segment,
  fs: segment,
  gs: segment,
  ss: segment,
  tr: segment,
  ldtr: segment,
  idtr: table,
  gdtr: table,
  efer: U64Schema.prefault(ZERO),
  cr0: U64Schema.prefault(ZERO),
  cr3: U64Schema.prefault(ZERO),
  cr4: U64Schema.prefault(ZERO),
  msrCrPat: U64Schema.prefault(ZERO),
})
