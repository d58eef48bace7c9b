import { z } from 'zod'
import { VtlError } from '../errors/vtl-error.js'
import { checkGpaRange } from '../validation/gpa-range.js'
import { ByteSizeSchema } from './byte-size.js'
import { U64Schema } from './numbers.js'

/**
 * Adds the issue core's GPA range rules raise (4 KiB aligned, non-empty, inside a `gpaWidth`-bit
 * address space) to a zod refinement, on `start` or `size`; true when the range holds. Schemas
 * that carry a range beside other fields refine with it.
 */
export function refineGpaRange(
  range: { start: bigint; size: bigint },
  ctx: z.core.$RefinementCtx,
  gpaWidth = 64
): boolean {
  try {
    checkGpaRange(range.start, range.size, gpaWidth)
    return true
  } catch (error) {
    if (!VtlError.isInstance(error)) throw error
    ctx.addIssue({
      code: 'custom',
      message: `${error.code}: ${error.message}`,
      path: error.field === 'start' ? ['start'] : ['size'],
    })
    return false
  }
}

/**
 * A guest physical range `{ start, size }`: start a 64-bit value, size a byte size (`64MiB`). Both
 * must be 4 KiB aligned, the range non-empty and inside a `gpaWidth`-bit address space.
 */
export function gpaRangeSchema(gpaWidth = 64) {
  return z.strictObject({ start: U64Schema, size: ByteSizeSchema }).superRefine((range, ctx) => {
    refineGpaRange(range, ctx, gpaWidth)
  })
}

/** `gpaRangeSchema()` for a full 64-bit address space; use the factory to bound the width. */
export const GpaRangeSchema = gpaRangeSchema()
