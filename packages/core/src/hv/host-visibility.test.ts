import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeHostVisibilityOutput,
  decodeModifySparseGpaPageHostVisibility,
  decodeModifySparseGpaPageHostVisibilityHeader,
  decodeQuerySparseGpaPageHostVisibility,
  encodeHostVisibilityOutput,
  encodeModifySparseGpaPageHostVisibility,
  encodeQuerySparseGpaPageHostVisibility,
  HostVisibility,
} from './host-visibility.js'
import { bytes, expectVtlError, toHex, u32, u64 } from './testing/arbitraries.js'

describe('ModifySparseGpaPageHostVisibility (16-B header + u64 GPNs)', () => {
  const RAW = bytes('ffffffffffffffff 03000000 00000000 4200000000000000')
  const HEADER = {
    partitionId: 0xffff_ffff_ffff_ffffn,
    hostVisibility: HostVisibility.ReadWrite,
    reservedBits: 0,
    reserved: 0,
  }

  it('names the visibility values', () => {
    expect(HostVisibility).toEqual({ Private: 0, ReadOnly: 1, ReadWrite: 3 })
  })

  it('encodes and decodes the hand-written bytes', () => {
    expect(toHex(encodeModifySparseGpaPageHostVisibility(HEADER, [0x42n]))).toBe(toHex(RAW))
    expect(decodeModifySparseGpaPageHostVisibility(RAW)).toEqual({ header: HEADER, gpns: [0x42n] })
  })

  it('reads only bits 1:0 as the visibility and preserves the reserved bits', () => {
    const raw = bytes('0100000000000000 fdffffff 78563412')
    expect(decodeModifySparseGpaPageHostVisibilityHeader(raw)).toEqual({
      partitionId: 1n,
      hostVisibility: 1,
      reservedBits: 0xffff_fffc,
      reserved: 0x12345678,
    })
  })

  it('refuses bad input', () => {
    expectVtlError(
      () => decodeModifySparseGpaPageHostVisibility(RAW.subarray(0, 20)),
      'E_DECODE_LENGTH',
      'ModifySparseGpaPageHostVisibility'
    )
    expectVtlError(
      () => encodeModifySparseGpaPageHostVisibility({ ...HEADER, hostVisibility: 4 }, []),
      'E_FIELD_RANGE',
      'ModifySparseGpaPageHostVisibility.hostVisibility'
    )
    expectVtlError(
      () => encodeModifySparseGpaPageHostVisibility({ ...HEADER, reservedBits: 1 }, []),
      'E_FIELD_RANGE',
      'ModifySparseGpaPageHostVisibility.reservedBits'
    )
  })

  it('round-trips', () => {
    fc.assert(
      fc.property(
        u64,
        fc.integer({ min: 0, max: 3 }),
        u32,
        u32,
        fc.array(u64, { maxLength: 10 }),
        (partitionId, hostVisibility, bits, reserved, gpns) => {
          const header = {
            partitionId,
            hostVisibility,
            reservedBits: (bits & ~3) >>> 0,
            reserved,
          }
          const raw = encodeModifySparseGpaPageHostVisibility(header, gpns)
          expect(decodeModifySparseGpaPageHostVisibility(raw)).toEqual({ header, gpns })
        }
      )
    )
  })
})

describe('QuerySparseGpaPageHostVisibility (8-B header + u64 GPNs → one byte per GPN)', () => {
  const RAW = bytes('ffffffffffffffff 1000000000000000 0000000010000000')

  it('encodes and decodes the hand-written bytes', () => {
    const header = { partitionId: 0xffff_ffff_ffff_ffffn }
    const gpns = [0x10n, 0x10_0000_0000n]
    expect(toHex(encodeQuerySparseGpaPageHostVisibility(header, gpns))).toBe(toHex(RAW))
    expect(decodeQuerySparseGpaPageHostVisibility(RAW)).toEqual({ header, gpns })
  })

  it('writes the output as one byte per page', () => {
    expect(toHex(encodeHostVisibilityOutput([3, 0, 3]))).toBe('030003')
    expect(decodeHostVisibilityOutput(bytes('0300'))).toEqual([3, 0])
    expectVtlError(() => encodeHostVisibilityOutput([256]), 'E_FIELD_RANGE')
  })

  it('round-trips the output', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 20 }), (values) => {
        expect(decodeHostVisibilityOutput(encodeHostVisibilityOutput(values))).toEqual(values)
      })
    )
  })

  it('refuses bad lengths', () => {
    expectVtlError(
      () => decodeQuerySparseGpaPageHostVisibility(RAW.subarray(0, 7)),
      'E_DECODE_LENGTH'
    )
    expectVtlError(
      () => decodeQuerySparseGpaPageHostVisibility(RAW.subarray(0, 12)),
      'E_DECODE_LENGTH'
    )
  })

  it('round-trips', () => {
    fc.assert(
      fc.property(u64, fc.array(u64, { maxLength: 10 }), (partitionId, gpns) => {
        const raw = encodeQuerySparseGpaPageHostVisibility({ partitionId }, gpns)
        expect(decodeQuerySparseGpaPageHostVisibility(raw)).toEqual({
          header: { partitionId },
          gpns,
        })
      })
    )
  })
})
