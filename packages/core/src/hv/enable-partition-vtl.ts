import { VtlError } from '../errors/vtl-error.js'
import { checkBool, checkObject, checkU64, checkUint, expectLength, viewOf } from './bytes.js'

/**
 * `EnablePartitionVtlFlags` (u8): bit 0 enable_mbec, bit 1 enable_supervisor_shadow_stack, bit 2
 * enable_hardware_hvpt, bits 7:3 reserved. OpenHCL does not check the reserved bits (§1.4, §13.9),
 * so `raw` keeps the whole byte as the guest wrote it; the booleans are its bits 2:0.
 */
export interface EnablePartitionVtlFlags {
  enableMbec: boolean
  enableSupervisorShadowStack: boolean
  enableHardwareHvpt: boolean
  raw: number
}

/**
 * `EnablePartitionVtl` input (16 B): partition_id u64 @0, target_vtl u8 @8, flags u8 @9,
 * reserved_z0 u16 @10, reserved_z1 u32 @12.
 */
export interface EnablePartitionVtlInput {
  partitionId: bigint
  /** Raw u8: the handler parses it, because the failure status differs per call (§3 step 0). */
  targetVtl: number
  flags: EnablePartitionVtlFlags
  /**
   * reserved_z0 and reserved_z1, preserved as written (not checked, §13.9). Optional when
   * encoding (zero), always present when decoding.
   */
  reservedZ0?: number
  reservedZ1?: number
}

export const ENABLE_PARTITION_VTL_SIZE = 16

export const EnablePartitionVtlFlagBits = {
  EnableMbec: 1 << 0,
  EnableSupervisorShadowStack: 1 << 1,
  EnableHardwareHvpt: 1 << 2,
} as const

/** Bits 7:3: reserved, carried but never interpreted. */
export const ENABLE_PARTITION_VTL_FLAGS_RESERVED_MASK = 0xf8

const FIELD = 'EnablePartitionVtl'

/** Builds a consistent flags object; `reserved` supplies bits 7:3 (default 0). */
export function enablePartitionVtlFlags(
  options: {
    enableMbec?: boolean
    enableSupervisorShadowStack?: boolean
    enableHardwareHvpt?: boolean
  } = {},
  reserved = 0
): EnablePartitionVtlFlags {
  checkUint(reserved, 8, `${FIELD}.flags.reserved`)
  if ((reserved & ~ENABLE_PARTITION_VTL_FLAGS_RESERVED_MASK) !== 0) {
    throw new VtlError('E_FIELD_RANGE', 'reserved flag bits must lie in bits 7:3', {
      field: `${FIELD}.flags.reserved`,
    })
  }
  const enableMbec = options.enableMbec ?? false
  const enableSupervisorShadowStack = options.enableSupervisorShadowStack ?? false
  const enableHardwareHvpt = options.enableHardwareHvpt ?? false
  return {
    enableMbec,
    enableSupervisorShadowStack,
    enableHardwareHvpt,
    raw:
      reserved |
      (enableMbec ? EnablePartitionVtlFlagBits.EnableMbec : 0) |
      (enableSupervisorShadowStack ? EnablePartitionVtlFlagBits.EnableSupervisorShadowStack : 0) |
      (enableHardwareHvpt ? EnablePartitionVtlFlagBits.EnableHardwareHvpt : 0),
  }
}

export function decodeEnablePartitionVtlFlags(raw: number): EnablePartitionVtlFlags {
  checkUint(raw, 8, `${FIELD}.flags`)
  return {
    enableMbec: (raw & EnablePartitionVtlFlagBits.EnableMbec) !== 0,
    enableSupervisorShadowStack:
      (raw & EnablePartitionVtlFlagBits.EnableSupervisorShadowStack) !== 0,
    enableHardwareHvpt: (raw & EnablePartitionVtlFlagBits.EnableHardwareHvpt) !== 0,
    raw,
  }
}

/** `raw` is written as is; a boolean that contradicts its bit is a caller bug, not a choice. */
function flagsByte(flags: EnablePartitionVtlFlags): number {
  checkObject(flags, `${FIELD}.flags`)
  checkUint(flags.raw, 8, `${FIELD}.flags.raw`)
  checkBool(flags.enableMbec, `${FIELD}.flags.enableMbec`)
  checkBool(flags.enableSupervisorShadowStack, `${FIELD}.flags.enableSupervisorShadowStack`)
  checkBool(flags.enableHardwareHvpt, `${FIELD}.flags.enableHardwareHvpt`)
  const expected = decodeEnablePartitionVtlFlags(flags.raw)
  if (
    expected.enableMbec !== flags.enableMbec ||
    expected.enableSupervisorShadowStack !== flags.enableSupervisorShadowStack ||
    expected.enableHardwareHvpt !== flags.enableHardwareHvpt
  ) {
    throw new VtlError(
      'E_INVALID_VALUE',
      `flags.raw 0x${flags.raw.toString(16)} disagrees with the flag booleans (use enablePartitionVtlFlags())`,
      { field: `${FIELD}.flags.raw` }
    )
  }
  return flags.raw
}

export function encodeEnablePartitionVtl(input: EnablePartitionVtlInput): Uint8Array {
  checkObject(input, FIELD)
  checkU64(input.partitionId, `${FIELD}.partitionId`)
  checkUint(input.targetVtl, 8, `${FIELD}.targetVtl`)
  const flags = flagsByte(input.flags)
  const z0 = input.reservedZ0 ?? 0
  const z1 = input.reservedZ1 ?? 0
  checkUint(z0, 16, `${FIELD}.reservedZ0`)
  checkUint(z1, 32, `${FIELD}.reservedZ1`)
  const bytes = new Uint8Array(ENABLE_PARTITION_VTL_SIZE)
  const view = viewOf(bytes)
  view.setBigUint64(0, input.partitionId, true)
  view.setUint8(8, input.targetVtl)
  view.setUint8(9, flags)
  view.setUint16(10, z0, true)
  view.setUint32(12, z1, true)
  return bytes
}

export function decodeEnablePartitionVtl(bytes: Uint8Array): Required<EnablePartitionVtlInput> {
  expectLength(bytes, ENABLE_PARTITION_VTL_SIZE, FIELD)
  const view = viewOf(bytes)
  return {
    partitionId: view.getBigUint64(0, true),
    targetVtl: view.getUint8(8),
    flags: decodeEnablePartitionVtlFlags(view.getUint8(9)),
    reservedZ0: view.getUint16(10, true),
    reservedZ1: view.getUint32(12, true),
  }
}
