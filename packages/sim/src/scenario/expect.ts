/** One expectation that did not hold. */
export interface Mismatch {
  field: string
  expected: unknown
  actual: unknown
}

const NUMERIC = /^(0x[0-9a-fA-F]+|-?[0-9]+)$/

function asBigInt(value: unknown): bigint | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value)
  if (typeof value === 'bigint') return value
  if (typeof value === 'string' && NUMERIC.test(value)) return BigInt(value)
  return undefined
}

/**
 * Compares the listed expectation fields with a step result (scenario-format.md "Expectations"):
 * names compare exactly, numbers in any notation (decimal, 0x hex) by value, mappings field by
 * field, lists element by element. Fields not listed are not checked.
 */
export function compareExpectations(
  expected: Readonly<Record<string, unknown>>,
  actual: Readonly<Record<string, unknown>>
): Mismatch[] {
  const out: Mismatch[] = []
  for (const [field, want] of Object.entries(expected)) compare(field, want, actual[field], out)
  return out
}

function compare(field: string, want: unknown, got: unknown, out: Mismatch[]): void {
  if (typeof want === 'object' && want !== null && !Array.isArray(want)) {
    if (typeof got !== 'object' || got === null || Array.isArray(got)) {
      out.push({ field, expected: want, actual: got ?? null })
      return
    }
    for (const [key, value] of Object.entries(want)) {
      compare(`${field}.${key}`, value, (got as Record<string, unknown>)[key], out)
    }
    return
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length) {
      out.push({ field, expected: want, actual: got ?? null })
      return
    }
    want.forEach((w, i) => {
      compare(`${field}[${i}]`, w, got[i], out)
    })
    return
  }
  if (typeof want === 'string' && typeof got === 'string' && !NUMERIC.test(want)) {
    // Hex byte strings (output) compare case-insensitively; names exactly.
    const bytes = /^[0-9a-fA-F]+$/.test(want) && /^[0-9a-f]+$/.test(got)
    if (bytes ? want.toLowerCase() !== got : want !== got)
      out.push({ field, expected: want, actual: got })
    return
  }
  const a = asBigInt(want)
  const b = asBigInt(got)
  if (a !== undefined && b !== undefined) {
    if (a !== b) out.push({ field, expected: want, actual: got })
    return
  }
  if (want !== got) out.push({ field, expected: want, actual: got ?? null })
}
