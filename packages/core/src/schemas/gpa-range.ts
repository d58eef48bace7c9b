import { z } from 'zod'
import { VtlError } from '../errors/vtl-error.js'
import { checkGpaRange } from '../validation/gpa-range.js'
import { ByteSizeSchema } from './byte-size.js'
import { U64Schema } from './numbers.js'

/**
 * A guest physical range `{ start, size }`: start a 64-bit value, size a byte size (`64MiB`). Both
 * must be 4 KiB aligned, the range non-empty and inside a `gpaWidth`-bit address space.
 */
export function gpaRangeSchema(gpaWidth = 64) {
  return z.strictObject({ start: U64Schema, size: ByteSizeSchema }).superRefine((range, ctx) => {
    try {
      checkGpaRange(range.start, range.size, gpaWidth)
    } catch (error) {
      if (!VtlError.isInstance(error)) throw error
      ctx.addIssue({
        code: 'custom',
        message: `${error.code}: ${error.message}`,
        path: error.field === 'start' ? ['start'] : ['size'],
      })
    }
  })
}

/** `gpaRangeSchema()` for a full 64-bit address space; use the factory to bound the width. */
export const GpaRangeSchema = gpaRangeSchema()
