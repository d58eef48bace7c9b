import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeEnableVpVtl, ENABLE_VP_VTL_SIZE, encodeEnableVpVtl } from './enable-vp-vtl.js'
import {
  decodeStartVirtualProcessor,
  encodeStartVirtualProcessor,
  START_VIRTUAL_PROCESSOR_SIZE,
} from './start-virtual-processor.js'
import {
  bytes,
  contextArb,
  expectVtlError,
  SEQUENTIAL_CONTEXT,
  SEQUENTIAL_CONTEXT_BYTES,
  toHex,
  u24,
  u32,
  u64,
  u8,
} from './testing/arbitraries.js'
import { decodeVpContextHeader, decodeVpContextInput } from './vp-context-input.js'

// Header written from §1.4: partition 0x1122334455667788, vp_index 0x0A0B0C0D, target_vtl 1,
// reserved bytes E1 E2 E3.
const HEADER = bytes('8877665544332211 0d0c0b0a 01 e1e2e3')
const INPUT = {
  partitionId: 0x1122334455667788n,
  vpIndex: 0x0a0b0c0d,
  targetVtl: 1,
  context: SEQUENTIAL_CONTEXT,
  reserved: 0xe3e2e1,
}
const EXPECTED = toHex(HEADER) + toHex(SEQUENTIAL_CONTEXT_BYTES)

const codecs = [
  ['EnableVpVtlX64', encodeEnableVpVtl, decodeEnableVpVtl, ENABLE_VP_VTL_SIZE],
  [
    'StartVirtualProcessorX64',
    encodeStartVirtualProcessor,
    decodeStartVirtualProcessor,
    START_VIRTUAL_PROCESSOR_SIZE,
  ],
] as const

describe.each(codecs)('%s (240 B)', (name, encode, decode, size) => {
  it('is 240 bytes', () => {
    expect(size).toBe(240)
  })

  it('encodes to the hand-written bytes (header, then the context at 16)', () => {
    expect(toHex(encode(INPUT))).toBe(EXPECTED)
  })

  it('decodes the hand-written bytes', () => {
    expect(decode(bytes(EXPECTED))).toEqual(INPUT)
  })

  it('accepts HV_VP_INDEX_SELF and a raw out-of-range target_vtl (the handler parses it)', () => {
    const raw = encode({ ...INPUT, vpIndex: 0xffff_fffe, targetVtl: 0xff, reserved: 0 })
    expect(toHex(raw.subarray(8, 16))).toBe('feffffffff000000')
    expect(decode(raw).targetVtl).toBe(0xff)
  })

  it('defaults reserved to zero on encode and always reports it on decode', () => {
    const raw = encode({
      partitionId: INPUT.partitionId,
      vpIndex: INPUT.vpIndex,
      targetVtl: INPUT.targetVtl,
      context: INPUT.context,
    })
    expect(toHex(raw.subarray(13, 16))).toBe('000000')
    expect(decode(raw).reserved).toBe(0)
  })

  it.each([0, 16, 224, 239, 241])('refuses %i bytes', (n) => {
    expectVtlError(() => decode(new Uint8Array(n)), 'E_DECODE_LENGTH', name)
  })

  it.each([
    ['partitionId', { partitionId: -1n }],
    ['vpIndex', { vpIndex: 2 ** 32 }],
    ['targetVtl', { targetVtl: 0x100 }],
    ['reserved', { reserved: 0x100_0000 }],
  ])('refuses an out-of-range %s', (field, patch) => {
    expectVtlError(() => encode({ ...INPUT, ...patch }), 'E_FIELD_RANGE', `${name}.${field}`)
  })

  it('names the context field that is out of range', () => {
    expectVtlError(
      () => encode({ ...INPUT, context: { ...SEQUENTIAL_CONTEXT, cr3: 1n << 64n } }),
      'E_FIELD_RANGE',
      'InitialVpContextX64.cr3'
    )
  })

  it('round-trips', () => {
    fc.assert(
      fc.property(u64, u32, u8, u24, contextArb, (partitionId, vpIndex, targetVtl, rsv, ctx) => {
        const input = { partitionId, vpIndex, targetVtl, context: ctx, reserved: rsv }
        expect(decode(encode(input))).toEqual(input)
      })
    )
  })
})

it('StartVirtualProcessor keeps rsvd0 (byte 13) and rsvd1 (bytes 14..15) in `reserved`', () => {
  const raw = bytes(toHex(HEADER.subarray(0, 13)) + '5a 3412' + toHex(SEQUENTIAL_CONTEXT_BYTES))
  expect(decodeStartVirtualProcessor(raw).reserved).toBe(0x12345a)
})

describe('decodeVpContextInput (the shared layout)', () => {
  it('decodes the context from its own bytes only: a pure codec (extra arguments change nothing)', () => {
    const input = encodeEnableVpVtl(INPUT)
    // A caller passing a decoded context as before: the codec does not take it.
    const decode: (bytes: Uint8Array, field: string, context?: unknown) => unknown =
      decodeVpContextInput
    const elsewhere = { ...SEQUENTIAL_CONTEXT, rip: 0x1234n }
    expect(decode(input, 'EnableVpVtlX64', elsewhere)).toEqual(INPUT)
  })

  it('decodes the header alone with the whole length checked', () => {
    const input = encodeEnableVpVtl(INPUT)
    // toEqual: the header has no `context` key at all.
    expect(decodeVpContextHeader(input, 'EnableVpVtlX64')).toEqual({ ...INPUT, context: undefined })
    expect('context' in decodeVpContextHeader(input, 'EnableVpVtlX64')).toBe(false)
    expectVtlError(
      () => decodeVpContextHeader(input.subarray(0, 239), 'EnableVpVtlX64'),
      'E_DECODE_LENGTH'
    )
  })
})
