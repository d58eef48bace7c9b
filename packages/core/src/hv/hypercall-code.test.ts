import { describe, expect, it } from 'vitest'
import {
  HV_PAGE_SHIFT,
  HV_PAGE_SIZE,
  HV_PARTITION_ID_SELF,
  HV_VP_INDEX_SELF,
  HypercallCode,
  hypercallCodeFromName,
  hypercallName,
} from './hypercall-code.js'

// Every hypercall code of abi.md §4.2 (OV-HVDEF `HypercallCode`, L-HVMINI), typed by hand with the
// TLFS name. The HvCall prefix is dropped in HypercallCode's keys.
const TABLE: readonly (readonly [string, number])[] = [
  ['HvCallFlushVirtualAddressSpace', 0x0002],
  ['HvCallFlushVirtualAddressList', 0x0003],
  ['HvCallSendSyntheticClusterIpi', 0x000b],
  ['HvCallModifyVtlProtectionMask', 0x000c],
  ['HvCallEnablePartitionVtl', 0x000d],
  ['HvCallEnableVpVtl', 0x000f],
  ['HvCallVtlCall', 0x0011],
  ['HvCallVtlReturn', 0x0012],
  ['HvCallFlushVirtualAddressSpaceEx', 0x0013],
  ['HvCallFlushVirtualAddressListEx', 0x0014],
  ['HvCallSendSyntheticClusterIpiEx', 0x0015],
  ['HvCallInstallIntercept', 0x004d],
  ['HvCallGetVpRegisters', 0x0050],
  ['HvCallSetVpRegisters', 0x0051],
  ['HvCallTranslateVirtualAddress', 0x0052],
  ['HvCallPostMessage', 0x005c],
  ['HvCallSignalEvent', 0x005d],
  ['HvCallRetargetDeviceInterrupt', 0x007e],
  ['HvCallAssertVirtualInterrupt', 0x0094],
  ['HvCallStartVirtualProcessor', 0x0099],
  ['HvCallGetVpIndexFromApicId', 0x009a],
  ['HvCallTranslateVirtualAddressEx', 0x00ac],
  ['HvCallCheckForIoIntercept', 0x00ad],
  ['HvCallSignalEventDirect', 0x00c0],
  ['HvCallPostMessageDirect', 0x00c1],
  ['HvCallCheckSparseGpaPageVtlAccess', 0x00d4],
  ['HvCallAcceptGpaPages', 0x00d9],
  ['HvCallModifySparseGpaPageHostVisibility', 0x00db],
  ['HvCallGetVpCpuidValues', 0x00f4],
  ['HvCallRestorePartitionTime', 0x0103],
  ['HvCallMemoryMappedIoRead', 0x0106],
  ['HvCallMemoryMappedIoWrite', 0x0107],
  ['HvCallPinGpaPageRanges', 0x0112],
  ['HvCallUnpinGpaPageRanges', 0x0113],
  ['HvCallQuerySparseGpaPageHostVisibility', 0x011c],
  ['HvCallVbsVmCallReport', 0xc001],
]

describe('HypercallCode', () => {
  it('has exactly the 37 codes of abi.md §4.2', () => {
    // 36 HvCall* rows above plus HvExtCallQueryCapabilities (0x8001), tested on its own.
    expect(Object.keys(HypercallCode)).toHaveLength(TABLE.length + 1)
    expect(new Set(Object.values(HypercallCode)).size).toBe(37)
  })

  it.each(TABLE)('%s = %i', (tlfsName, code) => {
    const bare = tlfsName.slice('HvCall'.length)
    expect((HypercallCode as Record<string, number>)[bare]).toBe(code)
    expect(hypercallName(code)).toBe(bare)
    expect(hypercallCodeFromName(bare)).toBe(code)
    expect(hypercallCodeFromName(tlfsName)).toBe(code)
  })

  it('HvExtCallQueryCapabilities is 0x8001 under the key ExtQueryCapabilities', () => {
    expect(HypercallCode.ExtQueryCapabilities).toBe(0x8001)
    expect(hypercallName(0x8001)).toBe('ExtQueryCapabilities')
    expect(hypercallCodeFromName('ExtQueryCapabilities')).toBe(0x8001)
  })

  it('the VSM calls have the codes vsm-on-tdx.md §1.2 lists', () => {
    expect(HypercallCode.ModifyVtlProtectionMask).toBe(0x0c)
    expect(HypercallCode.EnablePartitionVtl).toBe(0x0d)
    expect(HypercallCode.EnableVpVtl).toBe(0x0f)
    expect(HypercallCode.VtlCall).toBe(0x11)
    expect(HypercallCode.VtlReturn).toBe(0x12)
    expect(HypercallCode.StartVirtualProcessor).toBe(0x99)
  })

  it.each([0x0000, 0x0001, 0x000e, 0x0010, 0x00ff, 0x8002, 0xffff])(
    'does not name the unlisted code %i',
    (code) => {
      expect(hypercallName(code)).toBeUndefined()
    }
  )

  it.each(['', 'HvCall', 'EnableVtl', 'hvcallEnableVpVtl', 'HvCallFoo'])(
    'does not resolve the name %j',
    (name) => {
      expect(hypercallCodeFromName(name)).toBeUndefined()
    }
  )

  // Regression guard: the lookup once read inherited Object.prototype members (fixed in 392e048).
  it.each(['toString', 'constructor', 'hasOwnProperty'])(
    'does not resolve the inherited property name %j',
    (name) => {
      expect(hypercallCodeFromName(name)).toBeUndefined()
    }
  )

  it('resolves the TLFS name HvExtCallQueryCapabilities', () => {
    expect(hypercallCodeFromName('HvExtCallQueryCapabilities')).toBe(0x8001)
  })

  it('has the partition, VP and page constants of abi.md §4.1', () => {
    expect(HV_PARTITION_ID_SELF).toBe(0xffff_ffff_ffff_ffffn)
    expect(HV_VP_INDEX_SELF).toBe(0xffff_fffe)
    expect(HV_PAGE_SIZE).toBe(4096)
    expect(HV_PAGE_SHIFT).toBe(12)
  })
})
