import { VtlError } from '../errors/vtl-error.js'
import { nameIndex } from '../internal/name-index.js'

/**
 * Hyper-V hypercall status codes (`HV_STATUS_*`), named as OpenVMM's `HvError` names them
 * (vsm-on-tdx.md §1.3, abi.md §4.3). 0 is success.
 */
export const HvStatus = {
  Success: 0x0000,
  InvalidHypercallCode: 0x0002,
  InvalidHypercallInput: 0x0003,
  InvalidAlignment: 0x0004,
  InvalidParameter: 0x0005,
  AccessDenied: 0x0006,
  InvalidPartitionState: 0x0007,
  OperationDenied: 0x0008,
  UnknownProperty: 0x0009,
  PropertyValueOutOfRange: 0x000a,
  InsufficientMemory: 0x000b,
  PartitionTooDeep: 0x000c,
  InvalidPartitionId: 0x000d,
  InvalidVpIndex: 0x000e,
  NotFound: 0x0010,
  InvalidPortId: 0x0011,
  InvalidConnectionId: 0x0012,
  InsufficientBuffers: 0x0013,
  NotAcknowledged: 0x0014,
  InvalidVpState: 0x0015,
  Acknowledged: 0x0016,
  InvalidSaveRestoreState: 0x0017,
  InvalidSynicState: 0x0018,
  ObjectInUse: 0x0019,
  InvalidProximityDomainInfo: 0x001a,
  NoData: 0x001b,
  Inactive: 0x001c,
  NoResources: 0x001d,
  FeatureUnavailable: 0x001e,
  PartialPacket: 0x001f,
  ProcessorFeatureNotSupported: 0x0020,
  ProcessorCacheLineFlushSizeIncompatible: 0x0030,
  InsufficientBuffer: 0x0033,
  IncompatibleProcessor: 0x0037,
  InsufficientDeviceDomains: 0x0038,
  CpuidFeatureValidationError: 0x003c,
  CpuidXsaveFeatureValidationError: 0x003d,
  ProcessorStartupTimeout: 0x003e,
  SmxEnabled: 0x003f,
  InvalidLpIndex: 0x0041,
  InvalidRegisterValue: 0x0050,
  InvalidVtlState: 0x0051,
  NxNotDetected: 0x0055,
  InvalidDeviceId: 0x0057,
  InvalidDeviceState: 0x0058,
  PendingPageRequests: 0x0059,
  PageRequestInvalid: 0x0060,
  KeyAlreadyExists: 0x0065,
  DeviceAlreadyInDomain: 0x0066,
  InvalidCpuGroupId: 0x006f,
  InvalidCpuGroupState: 0x0070,
  OperationFailed: 0x0071,
  NotAllowedWithNestedVirtActive: 0x0072,
  InsufficientRootMemory: 0x0073,
  EventBufferAlreadyFreed: 0x0074,
  Timeout: 0x0078,
  CallPending: 0x0079,
  VtlAlreadyEnabled: 0x0086,
  UnknownRegisterName: 0x0087,
} as const

export type HvStatusName = keyof typeof HvStatus
/** A status value as the guest sees it in bits 15:0 of the result word. */
export type HvStatus = (typeof HvStatus)[HvStatusName]

const statuses = nameIndex(HvStatus)

/** The name of a status value, or `undefined` for a value no table lists. */
export function hvStatusName(value: number): HvStatusName | undefined {
  return statuses.nameOf(value)
}

/** The value of a status name; throws `E_UNKNOWN_NAME` for a name that is not in the table. */
export function hvStatusFromName(name: string): HvStatus {
  const value = statuses.valueOf(name) as HvStatus | undefined
  if (value === undefined) {
    throw new VtlError('E_UNKNOWN_NAME', `unknown HvStatus name '${name}'`, { field: 'status' })
  }
  return value
}

export function isHvStatus(value: number): value is HvStatus {
  return statuses.has(value)
}

/** `Name (0xNNNN)`, for messages and timelines. */
export function formatHvStatus(value: number): string {
  return `${hvStatusName(value) ?? 'Unknown'} (0x${value.toString(16).padStart(4, '0')})`
}
