import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { hexToBigint, wireJson } from './wire.js'

describe('wire codecs', () => {
  it('writes bigints as 0x hex and byte arrays as hex pairs, other values as JSON', () => {
    expect(
      JSON.parse(
        wireJson({
          a: 0n,
          b: 0xffff_ffff_ffff_ffffn,
          input: new Uint8Array([0, 0x0a, 0xff]),
          n: 7,
          s: '64MiB',
          nested: [{ v: 0x1000n }],
        })
      )
    ).toEqual({
      a: '0x0',
      b: '0xffffffffffffffff',
      input: '000aff',
      n: 7,
      s: '64MiB',
      nested: [{ v: '0x1000' }],
    })
  })

  it.each([
    ['0x0', 0n],
    ['0x10000', 0x10000n],
    ['0xFFFFFFFFFFFFFFFF', 0xffff_ffff_ffff_ffffn],
  ])('reads %s', (text, value) => {
    expect(hexToBigint(text)).toBe(value)
  })

  it.each([['10000'], ['0x'], ['0x1ffffffffffffffff'], ['0xg'], [16], [null], [undefined]])(
    'refuses %j as a 64-bit wire value (E_BAD_ANSWER, exit 1)',
    (text) => {
      expect(() => hexToBigint(text, 'memory')).toThrow(
        expect.objectContaining({ code: 'E_BAD_ANSWER', exitCode: 1 })
      )
    }
  )

  test.prop([fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })])(
    'every u64 survives the wire exactly',
    (value) => {
      const { v } = JSON.parse(wireJson({ v: value })) as { v: unknown }
      expect(hexToBigint(v)).toBe(value)
    }
  )
})
