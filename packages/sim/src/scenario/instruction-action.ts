import { msrFromName } from '@vtl/core'
import { join, type Reader } from './reader.js'
import type { GuestAction, IoSize } from './types.js'

/**
 * The instruction actions (scenario-format.md): `io` `{ port, size?: 1/2/4 (default 1), write?,
 * value? }` (IN, or OUT with `write: true`; only OUT takes a value), `writeCr` `{ cr: 0 / 4, value }`
 * (MOV to CR0/CR4), `msr` `{ msr, value? }` (RDMSR, or WRMSR with a value; `msr` a number or an
 * architectural name such as `Lstar`).
 */
export function parseInstruction(
  reader: Reader,
  key: 'io' | 'writeCr' | 'msr',
  value: unknown,
  field: string
): GuestAction {
  switch (key) {
    case 'io': {
      const o = reader.object(value, field, ['port', 'size', 'write', 'value'])
      const port = reader.uint(reader.required(o, 'port', field), join(field, 'port'), 16)
      const size: IoSize =
        o.size === undefined
          ? 1
          : reader.oneOf(
              typeof o.size === 'string' ? Number(o.size) : o.size,
              join(field, 'size'),
              [1, 2, 4] as const
            )
      const write = o.write === undefined ? false : reader.boolean(o.write, join(field, 'write'))
      if (!write && o.value !== undefined) {
        reader.fail(join(field, 'value'), 'only OUT (write: true) takes a value')
      }
      const out = o.value === undefined ? 0n : reader.u64(o.value, join(field, 'value'))
      if (out >= 1n << BigInt(size * 8)) {
        reader.fail(join(field, 'value'), `does not fit in ${size} byte(s)`)
      }
      return { kind: 'io', port, size, write, value: out }
    }
    case 'writeCr': {
      const c = reader.object(value, field, ['cr', 'value'])
      const cr = reader.oneOf(
        typeof c.cr === 'string' ? Number(c.cr) : reader.required(c, 'cr', field),
        join(field, 'cr'),
        [0, 4] as const
      )
      return {
        kind: 'writeCr',
        cr,
        value: reader.u64(reader.required(c, 'value', field), join(field, 'value')),
      }
    }
    case 'msr': {
      const m = reader.object(value, field, ['msr', 'value'])
      const given = reader.required(m, 'msr', field)
      let msr: number
      if (typeof given === 'string' && !/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(given)) {
        const named = msrFromName(given)
        if (named === undefined) reader.fail(join(field, 'msr'), `unknown MSR name '${given}'`)
        msr = named
      } else {
        msr = reader.uint(given, join(field, 'msr'), 32)
      }
      const written = m.value === undefined ? undefined : reader.u64(m.value, join(field, 'value'))
      return { kind: 'msr', msr, value: written }
    }
  }
}
