import { describe, expect, it } from 'vitest'
import { VtlError } from '../errors/vtl-error.js'
import { HvStatus, formatHvStatus, hvStatusFromName, hvStatusName, isHvStatus } from './status.js'

// Every HV_STATUS value, typed by hand from abi.md §4.3 (which agrees with vsm-on-tdx.md §1.3 plus
// its "full list"; 0x79 CallPending comes from Linux hvgdk_mini.h, abi.md §4.3).
const TABLE: readonly (readonly [string, number])[] = [
  ['Success', 0x0000],
  ['InvalidHypercallCode', 0x0002],
  ['InvalidHypercallInput', 0x0003],
  ['InvalidAlignment', 0x0004],
  ['InvalidParameter', 0x0005],
  ['AccessDenied', 0x0006],
  ['InvalidPartitionState', 0x0007],
  ['OperationDenied', 0x0008],
  ['UnknownProperty', 0x0009],
  ['PropertyValueOutOfRange', 0x000a],
  ['InsufficientMemory', 0x000b],
  ['PartitionTooDeep', 0x000c],
  ['InvalidPartitionId', 0x000d],
  ['InvalidVpIndex', 0x000e],
  ['NotFound', 0x0010],
  ['InvalidPortId', 0x0011],
  ['InvalidConnectionId', 0x0012],
  ['InsufficientBuffers', 0x0013],
  ['NotAcknowledged', 0x0014],
  ['InvalidVpState', 0x0015],
  ['Acknowledged', 0x0016],
  ['InvalidSaveRestoreState', 0x0017],
  ['InvalidSynicState', 0x0018],
  ['ObjectInUse', 0x0019],
  ['InvalidProximityDomainInfo', 0x001a],
  ['NoData', 0x001b],
  ['Inactive', 0x001c],
  ['NoResources', 0x001d],
  ['FeatureUnavailable', 0x001e],
  ['PartialPacket', 0x001f],
  ['ProcessorFeatureNotSupported', 0x0020],
  ['ProcessorCacheLineFlushSizeIncompatible', 0x0030],
  ['InsufficientBuffer', 0x0033],
  ['IncompatibleProcessor', 0x0037],
  ['InsufficientDeviceDomains', 0x0038],
  ['CpuidFeatureValidationError', 0x003c],
  ['CpuidXsaveFeatureValidationError', 0x003d],
  ['ProcessorStartupTimeout', 0x003e],
  ['SmxEnabled', 0x003f],
  ['InvalidLpIndex', 0x0041],
  ['InvalidRegisterValue', 0x0050],
  ['InvalidVtlState', 0x0051],
  ['NxNotDetected', 0x0055],
  ['InvalidDeviceId', 0x0057],
  ['InvalidDeviceState', 0x0058],
  ['PendingPageRequests', 0x0059],
  ['PageRequestInvalid', 0x0060],
  ['KeyAlreadyExists', 0x0065],
  ['DeviceAlreadyInDomain', 0x0066],
  ['InvalidCpuGroupId', 0x006f],
  ['InvalidCpuGroupState', 0x0070],
  ['OperationFailed', 0x0071],
  ['NotAllowedWithNestedVirtActive', 0x0072],
  ['InsufficientRootMemory', 0x0073],
  ['EventBufferAlreadyFreed', 0x0074],
  ['Timeout', 0x0078],
  ['CallPending', 0x0079],
  ['VtlAlreadyEnabled', 0x0086],
  ['UnknownRegisterName', 0x0087],
]

describe('HvStatus', () => {
  it('has exactly the 59 codes of the spec tables, no more', () => {
    expect(TABLE).toHaveLength(59)
    expect(Object.keys(HvStatus).sort()).toEqual(TABLE.map(([name]) => name).sort())
  })

  it.each(TABLE)('%s = %i', (name, value) => {
    expect((HvStatus as Record<string, number>)[name]).toBe(value)
    expect(hvStatusName(value)).toBe(name)
    expect(hvStatusFromName(name)).toBe(value)
    expect(isHvStatus(value)).toBe(true)
  })

  it('has no duplicate values', () => {
    expect(new Set(Object.values(HvStatus)).size).toBe(TABLE.length)
  })

  it.each([0x0001, 0x000f, 0x0021, 0x0085, 0x0088, 0xffff])(
    'does not name the unlisted value 0x%s',
    (value) => {
      expect(hvStatusName(value)).toBeUndefined()
      expect(isHvStatus(value)).toBe(false)
    }
  )

  it('rejects an unknown name with E_UNKNOWN_NAME', () => {
    expect(() => hvStatusFromName('HV_STATUS_ACCESS_DENIED')).toThrow(VtlError)
    try {
      hvStatusFromName('NoSuchStatus')
      expect.unreachable()
    } catch (error) {
      expect(VtlError.isInstance(error) && error.code).toBe('E_UNKNOWN_NAME')
    }
  })

  // Regression guard: the lookup once read inherited Object.prototype members (fixed in 392e048).
  it.each(['toString', 'constructor', '__proto__'])(
    'rejects the inherited property name %j',
    (name) => {
      expect(() => hvStatusFromName(name)).toThrow(VtlError)
    }
  )

  it('formats name and four hex digits', () => {
    expect(formatHvStatus(0x0051)).toBe('InvalidVtlState (0x0051)')
    expect(formatHvStatus(0x0006)).toBe('AccessDenied (0x0006)')
    expect(formatHvStatus(0x0000)).toBe('Success (0x0000)')
    expect(formatHvStatus(0x1234)).toBe('Unknown (0x1234)')
  })
})
