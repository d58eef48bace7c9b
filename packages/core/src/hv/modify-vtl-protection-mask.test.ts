import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeModifyVtlProtectionMask,
  decodeModifyVtlProtectionMaskHeader,
  encodeModifyVtlProtectionMask,
  MODIFY_VTL_PROTECTION_MASK_HEADER_SIZE,
  readGpnList,
} from './modify-vtl-protection-mask.js'
import { bytes, expectVtlError, toHex, u24, u32, u64, u8 } from './testing/arbitraries.js'

// SELF, map_flags R|W|KX|UX, HvInputVtl "VTL1 explicitly" (0x11), then GPNs 0x100 and 0x1_0000_0001.
const RAW = bytes(`
  ffffffffffffffff 0f000000 11 000000
  0001000000000000
  0100000001000000
`)
const HEADER = { partitionId: 0xffff_ffff_ffff_ffffn, mapFlags: 0xf, targetVtl: 0x11, reserved: 0 }
const GPNS = [0x100n, 0x1_0000_0001n]

describe('ModifyVtlProtectionMask (16-B header + u64 GPNs)', () => {
  it('encodes to the hand-written bytes', () => {
    expect(MODIFY_VTL_PROTECTION_MASK_HEADER_SIZE).toBe(16)
    expect(toHex(encodeModifyVtlProtectionMask(HEADER, GPNS))).toBe(toHex(RAW))
  })

  it('decodes the header from the first 16 bytes and the whole input', () => {
    expect(decodeModifyVtlProtectionMaskHeader(RAW)).toEqual(HEADER)
    expect(decodeModifyVtlProtectionMask(RAW)).toEqual({ header: HEADER, gpns: GPNS })
    expect(readGpnList(RAW, 24, 1)).toEqual([0x1_0000_0001n])
  })

  it('keeps the raw HvInputVtl byte and the reserved bytes as written', () => {
    const raw = bytes('0000000000000000 00800000 e5 a1b2c3')
    expect(decodeModifyVtlProtectionMaskHeader(raw)).toEqual({
      partitionId: 0n,
      mapFlags: 0x8000,
      targetVtl: 0xe5,
      reserved: 0xc3b2a1,
    })
  })

  it('refuses short headers and ragged element lists', () => {
    expectVtlError(
      () => decodeModifyVtlProtectionMaskHeader(new Uint8Array(15)),
      'E_DECODE_LENGTH',
      'ModifyVtlProtectionMask'
    )
    expectVtlError(
      () => decodeModifyVtlProtectionMask(RAW.subarray(0, 31)),
      'E_DECODE_LENGTH',
      'ModifyVtlProtectionMask'
    )
    expectVtlError(() => readGpnList(RAW, 16, 3), 'E_DECODE_LENGTH', 'gpns')
    expectVtlError(() => readGpnList(RAW, -8, 1), 'E_DECODE_LENGTH', 'gpns')
  })

  it('range-checks the header and every GPN', () => {
    expectVtlError(
      () => encodeModifyVtlProtectionMask({ ...HEADER, mapFlags: 2 ** 32 }, []),
      'E_FIELD_RANGE',
      'ModifyVtlProtectionMask.mapFlags'
    )
    expectVtlError(
      () => encodeModifyVtlProtectionMask(HEADER, [1n, 1n << 64n]),
      'E_FIELD_RANGE',
      'gpns[1]'
    )
  })

  it('round-trips', () => {
    fc.assert(
      fc.property(u64, u32, u8, u24, fc.array(u64, { maxLength: 20 }), (p, f, t, r, gpns) => {
        const header = { partitionId: p, mapFlags: f, targetVtl: t, reserved: r }
        expect(decodeModifyVtlProtectionMask(encodeModifyVtlProtectionMask(header, gpns))).toEqual({
          header,
          gpns,
        })
      })
    )
  })
})
