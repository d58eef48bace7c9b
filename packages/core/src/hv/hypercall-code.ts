import { nameIndex } from '../internal/name-index.js'

/**
 * Hypercall call codes (bits 15:0 of the control word), with the TLFS names less the `HvCall`
 * prefix (vsm-on-tdx.md §1.2, §13.10; abi.md §4.2).
 */
export const HypercallCode = {
  FlushVirtualAddressSpace: 0x0002,
  FlushVirtualAddressList: 0x0003,
  SendSyntheticClusterIpi: 0x000b,
  ModifyVtlProtectionMask: 0x000c,
  EnablePartitionVtl: 0x000d,
  EnableVpVtl: 0x000f,
  VtlCall: 0x0011,
  VtlReturn: 0x0012,
  FlushVirtualAddressSpaceEx: 0x0013,
  FlushVirtualAddressListEx: 0x0014,
  SendSyntheticClusterIpiEx: 0x0015,
  InstallIntercept: 0x004d,
  GetVpRegisters: 0x0050,
  SetVpRegisters: 0x0051,
  TranslateVirtualAddress: 0x0052,
  PostMessage: 0x005c,
  SignalEvent: 0x005d,
  RetargetDeviceInterrupt: 0x007e,
  AssertVirtualInterrupt: 0x0094,
  StartVirtualProcessor: 0x0099,
  GetVpIndexFromApicId: 0x009a,
  TranslateVirtualAddressEx: 0x00ac,
  CheckForIoIntercept: 0x00ad,
  SignalEventDirect: 0x00c0,
  PostMessageDirect: 0x00c1,
  CheckSparseGpaPageVtlAccess: 0x00d4,
  AcceptGpaPages: 0x00d9,
  ModifySparseGpaPageHostVisibility: 0x00db,
  GetVpCpuidValues: 0x00f4,
  RestorePartitionTime: 0x0103,
  MemoryMappedIoRead: 0x0106,
  MemoryMappedIoWrite: 0x0107,
  PinGpaPageRanges: 0x0112,
  UnpinGpaPageRanges: 0x0113,
  QuerySparseGpaPageHostVisibility: 0x011c,
  ExtQueryCapabilities: 0x8001,
  VbsVmCallReport: 0xc001,
} as const

export type HypercallName = keyof typeof HypercallCode
export type HypercallCode = (typeof HypercallCode)[HypercallName]

const calls = nameIndex(HypercallCode)

export function hypercallName(code: number): HypercallName | undefined {
  return calls.nameOf(code)
}

/**
 * Accepts `EnableVpVtl` and the TLFS spellings `HvCallEnableVpVtl` and
 * `HvExtCallQueryCapabilities` (the extended calls carry `HvExtCall`).
 */
export function hypercallCodeFromName(name: string): HypercallCode | undefined {
  const bare = name.startsWith('HvExtCall')
    ? `Ext${name.slice('HvExtCall'.length)}`
    : name.startsWith('HvCall')
      ? name.slice('HvCall'.length)
      : name
  return calls.valueOf(bare) as HypercallCode | undefined
}

export const HV_PARTITION_ID_SELF = 0xffff_ffff_ffff_ffffn
export const HV_VP_INDEX_SELF = 0xffff_fffe
export const HV_PAGE_SIZE = 4096
export const HV_PAGE_SHIFT = 12
