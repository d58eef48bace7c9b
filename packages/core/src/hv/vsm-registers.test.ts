import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { defineBitfield, flag, uint, type BitfieldCodec, type FieldSpec } from './bitfield.js'
import { expectVtlError, u64 } from './testing/arbitraries.js'
import {
  decodeGuestVsmPartitionConfig,
  decodeVsmCapabilities,
  decodeVsmCodePageOffsets,
  decodeVsmPartitionConfig,
  decodeVsmPartitionStatus,
  decodeVsmVina,
  decodeVsmVpSecureVtlConfig,
  decodeVsmVpStatus,
  encodeGuestVsmPartitionConfig,
  encodeVsmCapabilities,
  encodeVsmCodePageOffsets,
  encodeVsmPartitionConfig,
  encodeVsmPartitionStatus,
  encodeVsmVina,
  encodeVsmVpSecureVtlConfig,
  encodeVsmVpStatus,
  GuestVsmPartitionConfigCodec,
  VSM_CODE_PAGE_OFFSETS_X64,
  VsmCapabilitiesCodec,
  VsmCodePageOffsetsCodec,
  VsmPartitionConfigCodec,
  VsmPartitionStatusCodec,
  VsmVinaCodec,
  VsmVpSecureVtlConfigCodec,
  VsmVpStatusCodec,
  VsmVpWaitForTlbLockCodec,
} from './vsm-registers.js'

describe('VsmCapabilities (implementation bit order: dr6_shared = bit 0)', () => {
  it('reads 0x20002 as OpenHCL reports it on a CVM, and 0x20003 with DR6 shared (§13.9)', () => {
    expect(decodeVsmCapabilities(0x20002n)).toMatchObject({
      dr6Shared: false,
      mbecVtlMask: 0b1,
      denyLowerVtlStartup: true,
      supervisorShadowStack: false,
      interceptPageAvailable: false,
      reserved: 0n,
    })
    expect(decodeVsmCapabilities(0x20003n)).toMatchObject({
      dr6Shared: true,
      mbecVtlMask: 1,
      denyLowerVtlStartup: true,
    })
    expect(encodeVsmCapabilities({ denyLowerVtlStartup: true, mbecVtlMask: 1 })).toBe(0x20002n)
    expect(
      encodeVsmCapabilities({ denyLowerVtlStartup: true, mbecVtlMask: 1, dr6Shared: true })
    ).toBe(0x20003n)
  })

  it.each([
    ['mbecVtlMask all VTLs', { mbecVtlMask: 0xffff }, 0x1_fffen],
    ['supervisorShadowStack', { supervisorShadowStack: true }, 0x4_0000n],
    ['hardwareHvptAvailable', { hardwareHvptAvailable: true }, 0x8_0000n],
    ['softwareHvptAvailable', { softwareHvptAvailable: true }, 0x10_0000n],
    ['hardwareHvptRangeBits 63', { hardwareHvptRangeBits: 63 }, 0x7e0_0000n],
    ['interceptPageAvailable', { interceptPageAvailable: true }, 0x800_0000n],
    ['returnActionAvailable', { returnActionAvailable: true }, 0x1000_0000n],
    ['vtl0AliasMapAvailable', { vtl0AliasMapAvailable: true }, 0x2000_0000n],
    ['interceptNotPresentAvailable', { interceptNotPresentAvailable: true }, 0x4000_0000n],
    ['installInterceptEx', { installInterceptEx: true }, 0x8000_0000n],
    ['interceptSystemResetAvailable', { interceptSystemResetAvailable: true }, 0x1_0000_0000n],
    ['proxyInterruptRedirectAvailable', { proxyInterruptRedirectAvailable: true }, 0x4_0000_0000n],
  ])('%s ⇄ %s', (_name, fields, raw) => {
    expect(encodeVsmCapabilities(fields)).toBe(raw)
    expect(decodeVsmCapabilities(raw)).toMatchObject({ ...fields, reserved: 0n })
  })

  it('reports bit 33 and bits 63:35 as reserved, and refuses them on request', () => {
    expect(VsmCapabilitiesCodec.reservedMask).toBe(0xffff_fff8_0000_0000n | (1n << 33n))
    expect(decodeVsmCapabilities(1n << 33n).reserved).toBe(1n << 33n)
    expectVtlError(
      () => decodeVsmCapabilities(1n << 63n, { rejectReserved: true }),
      'E_RESERVED_BITS',
      'VsmCapabilities.reserved'
    )
  })
})

describe('VsmPartitionConfig', () => {
  it.each([
    // enable_vtl_protection + mask R|W|KX|UX + zero_memory_on_reset
    [
      {
        enableVtlProtection: true,
        defaultVtlProtectionMask: 0xf,
        zeroMemoryOnReset: true,
      },
      0x3fn,
    ],
    // what mshv_vtl writes at init: + intercept_vp_startup, intercept_cpuid_unimplemented
    [
      {
        enableVtlProtection: true,
        defaultVtlProtectionMask: 0xf,
        zeroMemoryOnReset: true,
        interceptVpStartup: true,
        interceptCpuidUnimplemented: true,
      },
      0x63fn,
    ],
    [{ denyLowerVtlStartup: true }, 0x40n],
    [{ defaultVtlProtectionMask: 0b0011 }, 0x6n],
    [{ interceptAcceptance: true }, 0x80n],
    [{ interceptEnableVtlProtection: true }, 0x100n],
    [{ interceptUnrecoverableException: true }, 0x800n],
    [{ interceptPage: true }, 0x1000n],
    [{ interceptRestorePartitionTime: true }, 0x2000n],
    [{ interceptNotPresent: true }, 0x4000n],
    [{ interceptSystemReset: true }, 0x8000n],
  ])('%o ⇄ %s', (fields, raw) => {
    expect(encodeVsmPartitionConfig(fields)).toBe(raw)
    expect(decodeVsmPartitionConfig(raw)).toMatchObject({ ...fields, reserved: 0n })
  })

  it('bits 63:16 are reserved', () => {
    expect(VsmPartitionConfigCodec.reservedMask).toBe(0xffff_ffff_ffff_0000n)
    expect(decodeVsmPartitionConfig(0x1_0001n)).toMatchObject({
      enableVtlProtection: true,
      reserved: 0x1_0000n,
    })
  })

  it('refuses a mask wider than 4 bits', () => {
    expectVtlError(
      () => encodeVsmPartitionConfig({ defaultVtlProtectionMask: 0x10 }),
      'E_FIELD_RANGE',
      'VsmPartitionConfig.defaultVtlProtectionMask'
    )
  })
})

describe('the other VSM registers', () => {
  it('VsmVpStatus: active VTL 1, MBEC, enabled {0,1} = 0x30011', () => {
    const fields = { activeVtl: 1, activeMbecEnabled: true, enabledVtlSet: 0b11 }
    expect(encodeVsmVpStatus(fields)).toBe(0x3_0011n)
    expect(decodeVsmVpStatus(0x3_0011n)).toEqual({ ...fields, reserved: 0n })
    expect(VsmVpStatusCodec.reservedMask).toBe(0xffff_ffff_0000_ffe0n)
  })

  it('VsmPartitionStatus: enabled {0,1}, max VTL 1, MBEC {0,1} = 0x310003', () => {
    const fields = {
      enabledVtlSet: 3,
      maximumVtl: 1,
      mbecEnabledVtlSet: 3,
      supervisorShadowStackEnabledVtlSet: 0,
    }
    expect(encodeVsmPartitionStatus(fields)).toBe(0x31_0003n)
    expect(decodeVsmPartitionStatus(0x31_0003n)).toEqual({ ...fields, reserved: 0n })
    expect(encodeVsmPartitionStatus({ supervisorShadowStackEnabledVtlSet: 0xf })).toBe(
      0xf0_0000_0000n
    )
    expect(VsmPartitionStatusCodec.reservedMask).toBe(0xffff_ff00_0000_0000n)
  })

  it('VsmVpSecureVtlConfig: mbec 0, tlb_locked 1, sss 2, hvpt 3', () => {
    expect(encodeVsmVpSecureVtlConfig({ mbecEnabled: true, tlbLocked: true })).toBe(0x3n)
    expect(decodeVsmVpSecureVtlConfig(0xcn)).toEqual({
      mbecEnabled: false,
      tlbLocked: false,
      supervisorShadowStackEnabled: true,
      hardwareHvptEnabled: true,
      reserved: 0n,
    })
    expect(VsmVpSecureVtlConfigCodec.reservedMask).toBe(0xffff_ffff_ffff_fff0n)
  })

  it('VsmCodePageOffsets: the 64-bit pair 0x0F/0x26 reads 0x2600F', () => {
    expect(encodeVsmCodePageOffsets(VSM_CODE_PAGE_OFFSETS_X64)).toBe(0x2_600fn)
    expect(decodeVsmCodePageOffsets(0x2_600fn)).toEqual({
      callOffset: 0x0f,
      returnOffset: 0x26,
      reserved: 0n,
    })
    expect(VsmCodePageOffsetsCodec.reservedMask).toBe(0xffff_ffff_ff00_0000n)
  })

  it('VsmVina: vector 0x30, enabled, auto_reset = 0x330', () => {
    const fields = { vector: 0x30, enabled: true, autoReset: true, autoEoi: false }
    expect(encodeVsmVina(fields)).toBe(0x330n)
    expect(decodeVsmVina(0x330n)).toEqual({ ...fields, reserved: 0n })
    expect(decodeVsmVina(0x400n).autoEoi).toBe(true)
    expect(VsmVinaCodec.reservedMask).toBe(0xffff_ffff_ffff_f800n)
  })

  it('GuestVsmPartitionConfig: max VTL 2, VTL0 injection 1, VTL1 injection 3 = 0xD2', () => {
    const fields = { maximumVtl: 2, vtl0InterruptInjection: 1, vtl1InterruptInjection: 3 }
    expect(encodeGuestVsmPartitionConfig(fields)).toBe(0xd2n)
    expect(decodeGuestVsmPartitionConfig(0xd2n)).toEqual({ ...fields, reserved: 0n })
  })

  it('VsmVpWaitForTlbLock: bit 0', () => {
    expect(VsmVpWaitForTlbLockCodec.encode({ wait: true })).toBe(1n)
    expect(VsmVpWaitForTlbLockCodec.decode(3n)).toEqual({ wait: true, reserved: 2n })
  })
})

describe('bit-field codec rules', () => {
  it('refuses bad field values and bad words with typed errors', () => {
    expectVtlError(
      () => encodeVsmVina({ enabled: 1 as unknown as boolean }),
      'E_FIELD_RANGE',
      'VsmVina.enabled'
    )
    expectVtlError(() => encodeVsmVina({ vector: 256 }), 'E_FIELD_RANGE', 'VsmVina.vector')
    expectVtlError(() => encodeVsmVina({ vector: 1.5 }), 'E_FIELD_RANGE', 'VsmVina.vector')
    expectVtlError(() => encodeVsmVina({ reserved: 1n }), 'E_FIELD_RANGE', 'VsmVina.reserved')
    expectVtlError(() => decodeVsmVina(1n << 64n), 'E_FIELD_RANGE', 'VsmVina')
    expectVtlError(() => decodeVsmVina(-1n), 'E_FIELD_RANGE', 'VsmVina')
  })

  it('refuses a table with overlapping fields', () => {
    expectVtlError(() => defineBitfield('Bad', { a: uint(0, 4), b: flag(3) }), 'E_INVARIANT')
    expectVtlError(() => defineBitfield('Bad', { a: uint(60, 8) }), 'E_INVARIANT')
  })

  const codecs: [string, BitfieldCodec<Record<string, FieldSpec>>][] = [
    ['VsmPartitionConfig', VsmPartitionConfigCodec],
    ['VsmCapabilities', VsmCapabilitiesCodec],
    ['VsmVpStatus', VsmVpStatusCodec],
    ['VsmPartitionStatus', VsmPartitionStatusCodec],
    ['VsmVpSecureVtlConfig', VsmVpSecureVtlConfigCodec],
    ['VsmCodePageOffsets', VsmCodePageOffsetsCodec],
    ['VsmVina', VsmVinaCodec],
    ['GuestVsmPartitionConfig', GuestVsmPartitionConfigCodec],
    ['VsmVpWaitForTlbLock', VsmVpWaitForTlbLockCodec],
  ]

  it.each(codecs)('%s: encode(decode(raw)) = raw and decode(encode(x)) = x', (_name, codec) => {
    fc.assert(
      fc.property(u64, (raw) => {
        const decoded = codec.decode(raw)
        expect(codec.encode(decoded)).toBe(raw)
        expect(codec.decode(codec.encode(decoded))).toEqual(decoded)
      })
    )
  })

  it.each(codecs)('%s: rejectReserved passes exactly the defined bits', (_name, codec) => {
    fc.assert(
      fc.property(u64, (raw) => {
        const clean = raw & codec.definedMask
        expect(codec.decode(clean, { rejectReserved: true }).reserved).toBe(0n)
        if ((raw & codec.reservedMask) !== 0n) {
          expectVtlError(() => codec.decode(raw, { rejectReserved: true }), 'E_RESERVED_BITS')
        }
      })
    )
  })
})
