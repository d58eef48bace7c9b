import { formatHex } from '@vtl/core/schemas'

/** JSON with 64-bit values (bigints) written as `0x` hex strings, as the reports do. */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => (typeof v === 'bigint' ? formatHex(v) : v),
    indent
  )
}

export function printJson(value: unknown, out: NodeJS.WritableStream = process.stdout): void {
  out.write(`${toJson(value)}\n`)
}
