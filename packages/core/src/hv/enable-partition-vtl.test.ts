import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeEnablePartitionVtl,
  decodeEnablePartitionVtlFlags,
  ENABLE_PARTITION_VTL_SIZE,
  enablePartitionVtlFlags,
  encodeEnablePartitionVtl,
  type EnablePartitionVtlInput,
} from './enable-partition-vtl.js'
import { bytes, expectVtlError, toHex, u16, u32, u64, u8 } from './testing/arbitraries.js'

describe('EnablePartitionVtl (16 B)', () => {
  it('is 16 bytes', () => {
    expect(ENABLE_PARTITION_VTL_SIZE).toBe(16)
  })

  it('encodes SELF, VTL1, enable_mbec to the hand-written bytes', () => {
    const input: EnablePartitionVtlInput = {
      partitionId: 0xffff_ffff_ffff_ffffn,
      targetVtl: 1,
      flags: enablePartitionVtlFlags({ enableMbec: true }),
    }
    expect(toHex(encodeEnablePartitionVtl(input))).toBe(
      toHex(bytes('ffffffffffffffff 01 01 0000 00000000'))
    )
  })

  it('decodes every field at its offset and preserves the unchecked reserved bits', () => {
    // partition 0x1122334455667788, target_vtl 0x07 (raw, unparsed), flags 0xFD, z0 0x1234,
    // z1 0xDEADBEEF.
    const raw = bytes('8877665544332211 07 fd 3412 efbeadde')
    expect(decodeEnablePartitionVtl(raw)).toEqual({
      partitionId: 0x1122334455667788n,
      targetVtl: 7,
      flags: {
        enableMbec: true,
        enableSupervisorShadowStack: false,
        enableHardwareHvpt: true,
        raw: 0xfd,
      },
      reservedZ0: 0x1234,
      reservedZ1: 0xdeadbeef,
    })
    expect(toHex(encodeEnablePartitionVtl(decodeEnablePartitionVtl(raw)))).toBe(toHex(raw))
  })

  it.each([
    [0x00, false, false, false],
    [0x01, true, false, false],
    [0x02, false, true, false],
    [0x04, false, false, true],
    [0x07, true, true, true],
    [0xf8, false, false, false],
  ])('flags byte 0x%s → mbec %s, sss %s, hvpt %s', (raw, mbec, sss, hvpt) => {
    expect(decodeEnablePartitionVtlFlags(raw)).toEqual({
      enableMbec: mbec,
      enableSupervisorShadowStack: sss,
      enableHardwareHvpt: hvpt,
      raw,
    })
  })

  it('builds flags with reserved bits 7:3 and refuses reserved bits elsewhere', () => {
    expect(enablePartitionVtlFlags({ enableHardwareHvpt: true }, 0x80).raw).toBe(0x84)
    expectVtlError(
      () => enablePartitionVtlFlags({}, 0x01),
      'E_FIELD_RANGE',
      'EnablePartitionVtl.flags.reserved'
    )
  })

  it('refuses flags whose raw byte contradicts the booleans', () => {
    expectVtlError(
      () =>
        encodeEnablePartitionVtl({
          partitionId: 0n,
          targetVtl: 1,
          flags: {
            enableMbec: true,
            enableSupervisorShadowStack: false,
            enableHardwareHvpt: false,
            raw: 0,
          },
        }),
      'E_INVALID_VALUE',
      'EnablePartitionVtl.flags.raw'
    )
  })

  it.each([
    ['partitionId', { partitionId: 1n << 64n }],
    ['targetVtl', { targetVtl: 256 }],
    ['reservedZ0', { reservedZ0: 0x1_0000 }],
    ['reservedZ1', { reservedZ1: -1 }],
  ])('refuses an out-of-range %s', (field, patch) => {
    const base = { partitionId: 0n, targetVtl: 1, flags: enablePartitionVtlFlags() }
    expectVtlError(
      () => encodeEnablePartitionVtl({ ...base, ...patch }),
      'E_FIELD_RANGE',
      `EnablePartitionVtl.${field}`
    )
  })

  it.each([0, 15, 17, 240])('refuses %i bytes', (size) => {
    expectVtlError(
      () => decodeEnablePartitionVtl(new Uint8Array(size)),
      'E_DECODE_LENGTH',
      'EnablePartitionVtl'
    )
  })

  it('round-trips', () => {
    fc.assert(
      fc.property(u64, u8, u8, u16, u32, (partitionId, targetVtl, flagsByte, z0, z1) => {
        const input = {
          partitionId,
          targetVtl,
          flags: decodeEnablePartitionVtlFlags(flagsByte),
          reservedZ0: z0,
          reservedZ1: z1,
        }
        expect(decodeEnablePartitionVtl(encodeEnablePartitionVtl(input))).toEqual(input)
      })
    )
  })
})
