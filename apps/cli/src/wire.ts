import { HEX_U64_PATTERN, formatHex } from '@vtl/core/schemas'
import { CliError, ExitCode } from './errors.js'

// The wire forms `vtld` speaks (api-contract.md): 64-bit values as `0x` hex strings, byte buffers
// as hex byte pairs without `0x` (scenario-format.md's raw hypercall `input`).

/** JSON text of a request body: bigints as `0x` hex, byte arrays as hex byte pairs. */
export function wireJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return formatHex(v)
    if (v instanceof Uint8Array) return Buffer.from(v).toString('hex')
    return v
  })
}

/** A `0x` hex string of the wire as a bigint; anything else is a daemon answer we cannot read. */
export function hexToBigint(text: unknown, what = 'value'): bigint {
  if (typeof text !== 'string' || !HEX_U64_PATTERN.test(text)) {
    throw new CliError(
      'E_BAD_ANSWER',
      `vtld sent ${what} ${JSON.stringify(text)}, not a 0x hex 64-bit value`,
      ExitCode.Failed
    )
  }
  return BigInt(text)
}
