export { formatHex } from './bytes.js'
export {
  HypercallCode,
  hypercallName,
  hypercallCodeFromName,
  HV_PARTITION_ID_SELF,
  HV_VP_INDEX_SELF,
  HV_PAGE_SIZE,
  HV_PAGE_SHIFT,
} from './hypercall-code.js'
export type { HypercallName } from './hypercall-code.js'
export { HvStatus, hvStatusName, hvStatusFromName, isHvStatus, formatHvStatus } from './status.js'
export type { HvStatusName } from './status.js'
export { Vtl0, Vtl1, Vtl2, parseVtl, isGuestVtl } from './vtl.js'
export type { Vtl, GuestVtl } from './vtl.js'
export {
  HvMapGpaFlags,
  HV_MAP_GPA_PERMISSIONS_NONE,
  HV_MAP_GPA_PERMISSIONS_ALL,
  HV_MAP_GPA_DEFINED_BITS,
  formatMapGpaFlags,
} from './map-gpa-flags.js'
export type { HvMapGpaFlagName } from './map-gpa-flags.js'
export { parsePermissionText, formatPermissionText } from './map-gpa-text.js'
export {
  encodeHypercallControl,
  decodeHypercallControl,
  encodeHypercallResult,
  decodeHypercallResult,
  HYPERCALL_CONTROL_RESERVED_MASK,
  HYPERCALL_RESULT_RESERVED_MASK,
  HV_MAX_REP_COUNT,
} from './control.js'
export type {
  HypercallControl,
  DecodedHypercallControl,
  HypercallResult,
  DecodedHypercallResult,
} from './control.js'
export {
  SEGMENT_REGISTER_SIZE,
  TABLE_REGISTER_SIZE,
  SegmentAttributes,
  checkSegmentRegister,
  checkTableRegister,
  writeSegmentRegister,
  readSegmentRegister,
  writeTableRegister,
  readTableRegister,
  encodeSegmentRegister,
  decodeSegmentRegister,
  encodeTableRegister,
  decodeTableRegister,
  segmentRegisterToValue,
  segmentRegisterFromValue,
  tableRegisterToValue,
  tableRegisterFromValue,
} from './segment-register.js'
export type { SegmentRegister, TableRegister } from './segment-register.js'
export {
  INITIAL_VP_CONTEXT_X64_SIZE,
  InitialVpContextX64Offset,
  checkInitialVpContextX64,
  writeInitialVpContextX64,
  readInitialVpContextX64,
  encodeInitialVpContextX64,
  decodeInitialVpContextX64,
  zeroInitialVpContextX64,
  longModeInitialVpContextX64,
} from './initial-vp-context.js'
export type { InitialVpContextX64 } from './initial-vp-context.js'
export {
  ENABLE_PARTITION_VTL_SIZE,
  ENABLE_PARTITION_VTL_FLAGS_RESERVED_MASK,
  EnablePartitionVtlFlagBits,
  enablePartitionVtlFlags,
  decodeEnablePartitionVtlFlags,
  encodeEnablePartitionVtl,
  decodeEnablePartitionVtl,
} from './enable-partition-vtl.js'
export type { EnablePartitionVtlInput, EnablePartitionVtlFlags } from './enable-partition-vtl.js'
export { ENABLE_VP_VTL_SIZE, encodeEnableVpVtl, decodeEnableVpVtl } from './enable-vp-vtl.js'
export type { EnableVpVtlInput } from './enable-vp-vtl.js'
export {
  START_VIRTUAL_PROCESSOR_SIZE,
  encodeStartVirtualProcessor,
  decodeStartVirtualProcessor,
} from './start-virtual-processor.js'
export type { StartVirtualProcessorInput } from './start-virtual-processor.js'
export type { VpContextInput } from './vp-context-input.js'
export {
  HV_INPUT_VTL_RESERVED_MASK,
  HV_INPUT_VTL_USE_TARGET,
  HV_INPUT_VTL_CURRENT,
  decodeHvInputVtl,
  encodeHvInputVtl,
  hvInputVtlFor,
} from './input-vtl.js'
export type { HvInputVtl, HvInputVtlFault, DecodedHvInputVtl } from './input-vtl.js'
export { GPN_SIZE, readGpnList, writeGpnList } from './gpn-list.js'
export {
  MODIFY_VTL_PROTECTION_MASK_HEADER_SIZE,
  encodeModifyVtlProtectionMask,
  decodeModifyVtlProtectionMaskHeader,
  decodeModifyVtlProtectionMask,
} from './modify-vtl-protection-mask.js'
export type { ModifyVtlProtectionMaskHeader } from './modify-vtl-protection-mask.js'
export {
  GET_SET_VP_REGISTERS_HEADER_SIZE,
  HV_REGISTER_NAME_SIZE,
  HV_REGISTER_VALUE_SIZE,
  HV_REGISTER_ASSOC_SIZE,
  decodeGetSetVpRegistersHeader,
  encodeGetVpRegisters,
  decodeGetVpRegisters,
  readRegisterNames,
  encodeRegisterValues,
  decodeRegisterValues,
  encodeSetVpRegisters,
  decodeSetVpRegisters,
  readRegisterAssocs,
} from './vp-registers.js'
export type { GetSetVpRegistersHeader, HvRegisterAssoc } from './vp-registers.js'
export {
  HostVisibility,
  MODIFY_SPARSE_GPA_PAGE_HOST_VISIBILITY_HEADER_SIZE,
  QUERY_SPARSE_GPA_PAGE_HOST_VISIBILITY_HEADER_SIZE,
  HOST_VISIBILITY_OUTPUT_ELEMENT_SIZE,
  encodeModifySparseGpaPageHostVisibility,
  decodeModifySparseGpaPageHostVisibilityHeader,
  decodeModifySparseGpaPageHostVisibility,
  encodeQuerySparseGpaPageHostVisibility,
  decodeQuerySparseGpaPageHostVisibilityHeader,
  decodeQuerySparseGpaPageHostVisibility,
  encodeHostVisibilityOutput,
  decodeHostVisibilityOutput,
} from './host-visibility.js'
export type {
  HostVisibilityName,
  ModifySparseGpaPageHostVisibilityHeader,
  QuerySparseGpaPageHostVisibilityHeader,
} from './host-visibility.js'
export {
  VP_ASSIST_PAGE_SIZE,
  VpAssistPageOffset,
  HV_VP_VTL_CONTROL_SIZE,
  HV_MESSAGE_SIZE,
  VTL_RETURN_ACTIONS_SIZE,
  VtlEntryReason,
  readVpVtlControl,
  writeVpVtlControl,
  readVtlEntryReason,
  writeVtlEntryReason,
  readVinaStatus,
  writeVinaStatus,
  readVtlReturnRegisters,
  writeVtlReturnRegisters,
  interceptMessageBytes,
  vtlReturnActionsBytes,
} from './vp-assist-page.js'
export type { VpVtlControl, VtlEntryReasonName } from './vp-assist-page.js'
export {
  HV_X64_MSR_HYPERCALL,
  HYPERCALL_PAGE_CODE,
  HYPERCALL_PAGE_FILL,
  HypercallMsrBits,
  hypercallPageBytes,
} from './hypercall-page.js'
export { HvSyntheticMsr, syntheticMsrRegister } from './synthetic-msr.js'
export {
  HvRegisterName,
  HV_REGISTER_NAME_ALIASES,
  vsmVpSecureConfigRegister,
  sintRegister,
  registerName,
  registerNumberFromName,
  parseRegisterName,
  formatRegisterName,
} from './register-name.js'
export type { HvRegisterNameKey } from './register-name.js'
export { defineBitfield, flag, uint } from './bitfield.js'
export type {
  BitfieldCodec,
  BitfieldInput,
  BitfieldValue,
  DecodedBitfield,
  DecodeOptions,
  FieldSpec,
  FlagSpec,
  UintSpec,
} from './bitfield.js'
export {
  VsmPartitionConfigCodec,
  VsmCapabilitiesCodec,
  VsmVpStatusCodec,
  VsmPartitionStatusCodec,
  VsmVpSecureVtlConfigCodec,
  VsmCodePageOffsetsCodec,
  VsmVinaCodec,
  GuestVsmPartitionConfigCodec,
  VsmVpWaitForTlbLockCodec,
  encodeVsmPartitionConfig,
  decodeVsmPartitionConfig,
  encodeVsmCapabilities,
  decodeVsmCapabilities,
  encodeVsmVpStatus,
  decodeVsmVpStatus,
  encodeVsmPartitionStatus,
  decodeVsmPartitionStatus,
  encodeVsmVpSecureVtlConfig,
  decodeVsmVpSecureVtlConfig,
  encodeVsmCodePageOffsets,
  decodeVsmCodePageOffsets,
  encodeVsmVina,
  decodeVsmVina,
  encodeGuestVsmPartitionConfig,
  decodeGuestVsmPartitionConfig,
  encodeVsmVpWaitForTlbLock,
  decodeVsmVpWaitForTlbLock,
  VSM_CODE_PAGE_OFFSETS_X64,
  VSM_CODE_PAGE_OFFSETS_X86,
} from './vsm-registers.js'
export type {
  VsmPartitionConfig,
  VsmCapabilities,
  VsmVpStatus,
  VsmPartitionStatus,
  VsmVpSecureVtlConfig,
  VsmCodePageOffsets,
  VsmVina,
  GuestVsmPartitionConfig,
  VsmVpWaitForTlbLock,
} from './vsm-registers.js'
