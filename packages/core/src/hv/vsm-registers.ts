import {
  defineBitfield,
  flag,
  uint,
  type BitfieldInput,
  type DecodeOptions,
  type DecodedBitfield,
} from './bitfield.js'

// Bit layouts of the VSM synthetic registers (vsm-on-tdx.md §5.5, §7.1, §7.4, §8; abi.md §4.5;
// hvdef `HvRegisterVsm*`). Each codec encodes from any subset of fields (missing = 0) and decodes
// to every field plus `reserved`: the set bits no field names, which the handler judges.

/** `HvRegisterVsmPartitionConfig` (0x000D0007). */
export const VsmPartitionConfigCodec = defineBitfield('VsmPartitionConfig', {
  enableVtlProtection: flag(0),
  /** `HvMapGpaFlags` bits 3:0 (R W KX UX). */
  defaultVtlProtectionMask: uint(1, 4),
  zeroMemoryOnReset: flag(5),
  denyLowerVtlStartup: flag(6),
  interceptAcceptance: flag(7),
  interceptEnableVtlProtection: flag(8),
  interceptVpStartup: flag(9),
  interceptCpuidUnimplemented: flag(10),
  interceptUnrecoverableException: flag(11),
  interceptPage: flag(12),
  interceptRestorePartitionTime: flag(13),
  interceptNotPresent: flag(14),
  interceptSystemReset: flag(15),
})

/**
 * `HvRegisterVsmCapabilities` (0x000D0006), in the implementations' LSB-first order (OpenVMM,
 * Linux): dr6_shared is bit 0, not the TLFS table's bit 63 (landscape.md, "layout traps").
 */
export const VsmCapabilitiesCodec = defineBitfield('VsmCapabilities', {
  dr6Shared: flag(0),
  /** One bit per VTL whose MBEC may be enabled; bit 1 of the register is VTL0. */
  mbecVtlMask: uint(1, 16),
  denyLowerVtlStartup: flag(17),
  supervisorShadowStack: flag(18),
  hardwareHvptAvailable: flag(19),
  softwareHvptAvailable: flag(20),
  hardwareHvptRangeBits: uint(21, 6),
  interceptPageAvailable: flag(27),
  returnActionAvailable: flag(28),
  vtl0AliasMapAvailable: flag(29),
  interceptNotPresentAvailable: flag(30),
  installInterceptEx: flag(31),
  interceptSystemResetAvailable: flag(32),
  // bit 33 reserved
  proxyInterruptRedirectAvailable: flag(34),
})

/** `HvRegisterVsmVpStatus` (0x000D0003). */
export const VsmVpStatusCodec = defineBitfield('VsmVpStatus', {
  activeVtl: uint(0, 4),
  activeMbecEnabled: flag(4),
  enabledVtlSet: uint(16, 16),
})

/** `HvRegisterVsmPartitionStatus` (0x000D0004). */
export const VsmPartitionStatusCodec = defineBitfield('VsmPartitionStatus', {
  enabledVtlSet: uint(0, 16),
  maximumVtl: uint(16, 4),
  mbecEnabledVtlSet: uint(20, 16),
  supervisorShadowStackEnabledVtlSet: uint(36, 4),
})

/** `HvRegisterVsmVpSecureVtlConfig` (VsmVpSecureConfigVtlN, 0x000D0010 + N). */
export const VsmVpSecureVtlConfigCodec = defineBitfield('VsmVpSecureVtlConfig', {
  mbecEnabled: flag(0),
  tlbLocked: flag(1),
  supervisorShadowStackEnabled: flag(2),
  hardwareHvptEnabled: flag(3),
})

/** `HvRegisterVsmCodePageOffsets` (0x000D0002): offsets into the hypercall page. */
export const VsmCodePageOffsetsCodec = defineBitfield('VsmCodePageOffsets', {
  callOffset: uint(0, 12),
  returnOffset: uint(12, 12),
})

/** `HvRegisterVsmVina` (0x000D0005). */
export const VsmVinaCodec = defineBitfield('VsmVina', {
  vector: uint(0, 8),
  enabled: flag(8),
  autoReset: flag(9),
  autoEoi: flag(10),
})

/** `HvRegisterGuestVsmPartitionConfig` (0x000D0008), as the hypervisor reports it. */
export const GuestVsmPartitionConfigCodec = defineBitfield('GuestVsmPartitionConfig', {
  maximumVtl: uint(0, 4),
  /** SNP: 0 restricted, 1 normal, 2 alternate, 3 secure AVIC. */
  vtl0InterruptInjection: uint(4, 2),
  vtl1InterruptInjection: uint(6, 2),
})

/** `HvRegisterVsmWpWaitForTlbLock` (VsmVpWaitForTlbLock, 0x000D0020). */
export const VsmVpWaitForTlbLockCodec = defineBitfield('VsmVpWaitForTlbLock', {
  wait: flag(0),
})

type Fields<C> = C extends { fields: infer D } ? D : never

export type VsmPartitionConfig = DecodedBitfield<Fields<typeof VsmPartitionConfigCodec>>
export type VsmCapabilities = DecodedBitfield<Fields<typeof VsmCapabilitiesCodec>>
export type VsmVpStatus = DecodedBitfield<Fields<typeof VsmVpStatusCodec>>
export type VsmPartitionStatus = DecodedBitfield<Fields<typeof VsmPartitionStatusCodec>>
export type VsmVpSecureVtlConfig = DecodedBitfield<Fields<typeof VsmVpSecureVtlConfigCodec>>
export type VsmCodePageOffsets = DecodedBitfield<Fields<typeof VsmCodePageOffsetsCodec>>
export type VsmVina = DecodedBitfield<Fields<typeof VsmVinaCodec>>
export type GuestVsmPartitionConfig = DecodedBitfield<Fields<typeof GuestVsmPartitionConfigCodec>>
export type VsmVpWaitForTlbLock = DecodedBitfield<Fields<typeof VsmVpWaitForTlbLockCodec>>

export function encodeVsmPartitionConfig(
  value: BitfieldInput<Fields<typeof VsmPartitionConfigCodec>>
): bigint {
  return VsmPartitionConfigCodec.encode(value)
}
export function decodeVsmPartitionConfig(raw: bigint, options?: DecodeOptions): VsmPartitionConfig {
  return VsmPartitionConfigCodec.decode(raw, options)
}

export function encodeVsmCapabilities(
  value: BitfieldInput<Fields<typeof VsmCapabilitiesCodec>>
): bigint {
  return VsmCapabilitiesCodec.encode(value)
}
export function decodeVsmCapabilities(raw: bigint, options?: DecodeOptions): VsmCapabilities {
  return VsmCapabilitiesCodec.decode(raw, options)
}

export function encodeVsmVpStatus(value: BitfieldInput<Fields<typeof VsmVpStatusCodec>>): bigint {
  return VsmVpStatusCodec.encode(value)
}
export function decodeVsmVpStatus(raw: bigint, options?: DecodeOptions): VsmVpStatus {
  return VsmVpStatusCodec.decode(raw, options)
}

export function encodeVsmPartitionStatus(
  value: BitfieldInput<Fields<typeof VsmPartitionStatusCodec>>
): bigint {
  return VsmPartitionStatusCodec.encode(value)
}
export function decodeVsmPartitionStatus(raw: bigint, options?: DecodeOptions): VsmPartitionStatus {
  return VsmPartitionStatusCodec.decode(raw, options)
}

export function encodeVsmVpSecureVtlConfig(
  value: BitfieldInput<Fields<typeof VsmVpSecureVtlConfigCodec>>
): bigint {
  return VsmVpSecureVtlConfigCodec.encode(value)
}
export function decodeVsmVpSecureVtlConfig(
  raw: bigint,
  options?: DecodeOptions
): VsmVpSecureVtlConfig {
  return VsmVpSecureVtlConfigCodec.decode(raw, options)
}

export function encodeVsmCodePageOffsets(
  value: BitfieldInput<Fields<typeof VsmCodePageOffsetsCodec>>
): bigint {
  return VsmCodePageOffsetsCodec.encode(value)
}
export function decodeVsmCodePageOffsets(raw: bigint, options?: DecodeOptions): VsmCodePageOffsets {
  return VsmCodePageOffsetsCodec.decode(raw, options)
}

export function encodeVsmVina(value: BitfieldInput<Fields<typeof VsmVinaCodec>>): bigint {
  return VsmVinaCodec.encode(value)
}
export function decodeVsmVina(raw: bigint, options?: DecodeOptions): VsmVina {
  return VsmVinaCodec.decode(raw, options)
}

export function encodeGuestVsmPartitionConfig(
  value: BitfieldInput<Fields<typeof GuestVsmPartitionConfigCodec>>
): bigint {
  return GuestVsmPartitionConfigCodec.encode(value)
}
export function decodeGuestVsmPartitionConfig(
  raw: bigint,
  options?: DecodeOptions
): GuestVsmPartitionConfig {
  return GuestVsmPartitionConfigCodec.decode(raw, options)
}

export function encodeVsmVpWaitForTlbLock(
  value: BitfieldInput<Fields<typeof VsmVpWaitForTlbLockCodec>>
): bigint {
  return VsmVpWaitForTlbLockCodec.encode(value)
}
export function decodeVsmVpWaitForTlbLock(
  raw: bigint,
  options?: DecodeOptions
): VsmVpWaitForTlbLock {
  return VsmVpWaitForTlbLockCodec.decode(raw, options)
}

/** The hypercall-page offsets OpenHCL reports on CVMs: the 64-bit pair (§7.1). */
export const VSM_CODE_PAGE_OFFSETS_X64 = { callOffset: 0x0f, returnOffset: 0x26 } as const
/** The 32-bit stubs' offsets, for reference; the CVM path never reports them. */
export const VSM_CODE_PAGE_OFFSETS_X86 = { callOffset: 0x04, returnOffset: 0x1b } as const
