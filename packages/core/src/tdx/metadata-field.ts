import { VtlError } from '../errors/vtl-error.js'
import { checkInt, checkReserved, checkU64 } from './u64.js'

/**
 * Element size of a metadata field, bits 33:32 of the field id (abi.md §3.7). openvmm calls 0
 * `Invalid` because it never reads 8-bit fields; the TDX module defines it as 8-bit.
 */
export const TdxFieldSize = {
  Size8Bit: 0,
  Size16Bit: 1,
  Size32Bit: 2,
  Size64Bit: 3,
} as const
export type TdxFieldSize = (typeof TdxFieldSize)[keyof typeof TdxFieldSize]

/** Width in bits of each `TdxFieldSize`. */
export function tdxFieldSizeBits(size: TdxFieldSize): 8 | 16 | 32 | 64 {
  return size === 0 ? 8 : size === 1 ? 16 : size === 2 ? 32 : 64
}

/** Which control structure a field id addresses, bits 54:52. */
export const TdxContextCode = {
  PLATFORM: 0,
  TD: 1,
  TD_VCPU: 2,
} as const
export type TdxContextCode = (typeof TdxContextCode)[keyof typeof TdxContextCode]

/** TDVPS class codes (bits 61:56 with context TD_VCPU), openvmm `TdVpsClassCode`. */
export const TdVpsClassCode = {
  TD_VMCS: 0,
  VAPIC: 1,
  VE_INFO: 2,
  GUEST_GPR_STATE: 16,
  GUEST_STATE: 17,
  GUEST_EXT_STATE: 18,
  GUEST_MSR_STATE: 19,
  MANAGEMENT: 32,
  CPUID_CONTROL: 33,
  EPT_VIOLATION_LOG: 34,
  /** L2 VM #1 = VTL0. */
  VMCS_1: 36,
  MSR_BITMAPS_1: 37,
  MSR_BITMAPS_SHADOW_1: 38,
  /** L2 VM #2 = VTL1. */
  VMCS_2: 44,
  MSR_BITMAPS_2: 45,
  MSR_BITMAPS_SHADOW_2: 46,
  /** L2 VM #3, unused by OpenHCL. */
  VMCS_3: 52,
} as const
export type TdVpsClassCode = (typeof TdVpsClassCode)[keyof typeof TdVpsClassCode]

/** The decoded metadata field id (`TdxExtendedFieldCode`) of TDG.VM/VP/SYS.RD/WR's RDX. */
export interface TdxExtendedFieldCode {
  /** Bits 23:0. */
  fieldCode: number
  /** Bits 33:32. */
  fieldSize: TdxFieldSize
  /** Bits 37:34: index of the last element in the field (0 for a single-element field). */
  lastElement: number
  /** Bits 46:38: index of the last field in a sequence (0 for one field). */
  lastField: number
  /** Bit 50. */
  incrementSize: boolean
  /** Bit 51. */
  writeMaskValid: boolean
  /** Bits 54:52. */
  contextCode: TdxContextCode
  /** Bits 61:56. */
  classCode: number
  /** Bit 63: the field is not architectural (the TDX 1.5 JSON sets it on some TDCS fields). */
  nonArch: boolean
}

/** What `encodeTdxExtendedFieldCode` needs; the sequence fields and flags default to 0. */
export type TdxExtendedFieldCodeInput = Pick<
  TdxExtendedFieldCode,
  'fieldCode' | 'fieldSize' | 'contextCode' | 'classCode'
> &
  Partial<TdxExtendedFieldCode>

// 31:24, 49:47, 55 and 62.
const RESERVED = 0xff00_0000n | (7n << 47n) | (1n << 55n) | (1n << 62n)

export function encodeTdxExtendedFieldCode(field: TdxExtendedFieldCodeInput): bigint {
  checkInt(field.fieldCode, 0, 0xff_ffff, 'fieldCode')
  checkInt(field.fieldSize, 0, 3, 'fieldSize')
  checkInt(field.contextCode, 0, 2, 'contextCode')
  checkInt(field.classCode, 0, 0x3f, 'classCode')
  const lastElement = field.lastElement ?? 0
  const lastField = field.lastField ?? 0
  checkInt(lastElement, 0, 0xf, 'lastElement')
  checkInt(lastField, 0, 0x1ff, 'lastField')
  return (
    BigInt(field.fieldCode) |
    (BigInt(field.fieldSize) << 32n) |
    (BigInt(lastElement) << 34n) |
    (BigInt(lastField) << 38n) |
    (field.incrementSize === true ? 1n << 50n : 0n) |
    (field.writeMaskValid === true ? 1n << 51n : 0n) |
    (BigInt(field.contextCode) << 52n) |
    (BigInt(field.classCode) << 56n) |
    (field.nonArch === true ? 1n << 63n : 0n)
  )
}

/** Decodes a field id; reserved bits → `E_RESERVED_BITS`, context 3–7 → `E_FIELD_RANGE`. */
export function decodeTdxExtendedFieldCode(id: bigint): TdxExtendedFieldCode {
  checkU64(id, 'fieldId')
  checkReserved(id, RESERVED, 'fieldId')
  const contextCode = Number((id >> 52n) & 7n)
  if (contextCode > 2) {
    throw new VtlError('E_FIELD_RANGE', `metadata context code ${contextCode} is not defined`, {
      field: 'contextCode',
    })
  }
  return {
    fieldCode: Number(id & 0xff_ffffn),
    fieldSize: Number((id >> 32n) & 3n) as TdxFieldSize,
    lastElement: Number((id >> 34n) & 0xfn),
    lastField: Number((id >> 38n) & 0x1ffn),
    incrementSize: ((id >> 50n) & 1n) === 1n,
    writeMaskValid: ((id >> 51n) & 1n) === 1n,
    contextCode: contextCode as TdxContextCode,
    classCode: Number((id >> 56n) & 0x3fn),
    nonArch: id >> 63n === 1n,
  }
}

/** A TDVPS (context TD_VCPU) field id with the given class, code and size. */
export function tdVpsFieldId(
  classCode: TdVpsClassCode,
  fieldCode: number,
  size: TdxFieldSize
): bigint {
  return encodeTdxExtendedFieldCode({
    contextCode: TdxContextCode.TD_VCPU,
    classCode,
    fieldCode,
    fieldSize: size,
  })
}

/**
 * TDCS CONFIG_FLAGS (TDG.VM.RD), as openvmm spells it. The TDX 1.5 JSON set the non-arch bit 63;
 * Linux uses the same id without it (`TDCS_CONFIG_FLAGS_ARCH`); newer modules accept both.
 */
export const TDCS_CONFIG_FLAGS = 0x9110_0003_0000_0016n
export const TDCS_CONFIG_FLAGS_ARCH = 0x1110_0003_0000_0016n
/** TDCS TD_CTLS (TDG.VM.RD/WR), as Linux and abi.md spell it; the 1.5 JSON id has bit 63 set. */
export const TDCS_TD_CTLS = 0x1110_0003_0000_0017n
export const TDCS_TD_CTLS_NON_ARCH = 0x9110_0003_0000_0017n
/** TDCS NOTIFY_ENABLES (Linux `TDCS_NOTIFY_ENABLES`). */
export const TDCS_NOTIFY_ENABLES = 0x9100_0000_0000_0010n
/** Global TDX_FEATURES0 (TDG.SYS.RD). */
export const TDX_FEATURES0 = 0x0a00_0003_0000_0008n

/** CONFIG_FLAGS bits (abi.md §3.7). */
export const TdcsConfigFlags = {
  GPAW: 1n << 0n,
  FLEXIBLE_PENDING_VE: 1n << 1n,
  NO_RBP_MOD: 1n << 2n,
  MAXPA_VIRT: 1n << 3n,
  MAXGPA_VIRT: 1n << 4n,
  TDX_CONNECT: 1n << 5n,
  PAGE_RELEASE: 1n << 6n,
  SEALING: 1n << 7n,
} as const

/** TD_CTLS bits (abi.md §3.7). */
export const TdcsTdCtls = {
  PENDING_VE_DISABLE: 1n << 0n,
  ENUM_TOPOLOGY: 1n << 1n,
  VIRT_CPUID2: 1n << 2n,
  REDUCE_VE: 1n << 3n,
  ENABLE_HW_SEAL_KEYS: 1n << 4n,
  LOCK: 1n << 63n,
} as const

/**
 * TDVPS L2_CTLS of L2 VM #1 (VTL0) and #2 (VTL1). Until openvmm PR #1859 the VM2 constant was a
 * copy of VM1's (…51): ours is …52, the corrected value.
 */
export const TDVPS_L2_CTLS_VM1 = 0xa020_0003_0000_0051n
export const TDVPS_L2_CTLS_VM2 = 0xa020_0003_0000_0052n

/** The L2_CTLS field id of L2 VM `vmIndex` (1–3). */
export function l2CtlsFieldId(vmIndex: 1 | 2 | 3): bigint {
  checkInt(vmIndex, 1, 3, 'vmIndex')
  return TDVPS_L2_CTLS_VM1 + BigInt(vmIndex - 1)
}

/**
 * TDVPS TSC_DEADLINE base: the field of L2 VM n is base + n. TDVPS semantics differ from the SDM's
 * (0 = fire now, all ones = disarmed).
 */
export const TDVPS_TSC_DEADLINE_BASE = 0xa020_0003_0000_0058n

export function tscDeadlineFieldId(vmIndex: 1 | 2 | 3): bigint {
  checkInt(vmIndex, 1, 3, 'vmIndex')
  return TDVPS_TSC_DEADLINE_BASE + BigInt(vmIndex)
}
