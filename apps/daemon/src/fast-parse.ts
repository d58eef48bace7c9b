import type { z } from '@hono/zod-openapi'

// The hot routes' request schemas answer the common input without zod's (async) walk: a check
// written out by hand recognises plain input and builds exactly what zod would; anything else
// (every refusal included) goes to zod, which stays the source of truth for docs and messages.

/** What a hand check makes of the input: the parsed value, or undefined (let zod decide). */
export type FastParse<T> = (input: unknown) => T | undefined

/**
 * `schema`, whose `safeParseAsync` (what hono's validator calls) first tries `fast`. `fast` must
 * give zod's own output for every input it accepts (fast-parse.test.ts checks that by table).
 */
export function withFastParse<S extends z.ZodType>(schema: S, fast: FastParse<z.output<S>>): S {
  const zodParse = schema.safeParseAsync.bind(schema)
  schema.safeParseAsync = async (input, params) => {
    const data = fast(input)
    return data === undefined ? await zodParse(input, params) : { success: true, data }
  }
  return schema
}

/**
 * A plain object (JSON input: no prototype tricks) with own keys only, all among `keys` when
 * given.
 */
export function plainWithKeys(
  input: unknown,
  keys: ReadonlySet<string> | undefined
): Record<string, unknown> | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return undefined
  if (Object.getPrototypeOf(input) !== Object.prototype) return undefined
  for (const key in input) {
    if (!Object.hasOwn(input, key) || (keys !== undefined && !keys.has(key))) return undefined
  }
  return input as Record<string, unknown>
}

/** `z.int().min(min).max(max)` on a number. */
export const intIn = (value: unknown, min: number, max: number): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max
