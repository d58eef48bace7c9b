export {
  GpaVmAttr,
  GUEST_L2_GPA_ATTR_MASK,
  GPA_VM_ATTR_FULL_ACCESS,
  GPA_VM_ATTR_MASK_ALL_CHANGED,
  GPA_VM_ATTR_FLAG_INVEPT,
  vmIndexForVtl,
  vmAttrFromMapGpaFlags,
  mapGpaFlagsFromVmAttr,
  packAttrSlot,
  unpackAttrSlot,
  encodeGpaAttr,
  decodeGpaAttr,
  attrWriteOperands,
} from './page-attr.js'
export type { AttrSlot, GpaAttr } from './page-attr.js'
export {
  PAGE_LEVEL_4K,
  PAGE_LEVEL_2M,
  PAGE_LEVEL_1G,
  PAGES_PER_LEVEL,
  MAX_OPERAND_GPN,
  encodeGpaOperand,
  decodeGpaOperand,
} from './gpa-operand.js'
export type { PageLevel, GpaOperand } from './gpa-operand.js'
export { sharedBitIndex, sharedBit, assertGpaWidth, classifyGpa } from './shared-bit.js'
export type { GpaWidth } from './shared-bit.js'
export {
  TdcallLeaf,
  tdcallLeafName,
  tdcallLeafFromName,
  isTdcallLeaf,
  encodeTdcallRax,
  decodeTdcallRax,
} from './leaf.js'
export type { TdcallLeafName } from './leaf.js'
export {
  TdxStatus,
  TdxOperandId,
  tdxStatusName,
  tdxStatusFromName,
  isTdxStatus,
  tdxStatusCode,
  tdxStatusDetails,
  tdxStatusClass,
  isTdxError,
  isTdxRecoverable,
  isTdxSuccess,
  isTdxWarning,
  makeTdxStatus,
  formatTdxStatus,
} from './completion-status.js'
export type { TdxStatusName } from './completion-status.js'
export {
  TdxFieldSize,
  TdxContextCode,
  TdVpsClassCode,
  tdxFieldSizeBits,
  encodeTdxExtendedFieldCode,
  decodeTdxExtendedFieldCode,
  tdVpsFieldId,
  TDCS_CONFIG_FLAGS,
  TDCS_CONFIG_FLAGS_ARCH,
  TDCS_TD_CTLS,
  TDCS_TD_CTLS_NON_ARCH,
  TDCS_NOTIFY_ENABLES,
  TDX_FEATURES0,
  TdcsConfigFlags,
  TdcsTdCtls,
  TDVPS_L2_CTLS_VM1,
  TDVPS_L2_CTLS_VM2,
  l2CtlsFieldId,
  TDVPS_TSC_DEADLINE_BASE,
  tscDeadlineFieldId,
} from './metadata-field.js'
export type { TdxExtendedFieldCode, TdxExtendedFieldCodeInput } from './metadata-field.js'
export {
  VmcsField,
  VmcsFieldWidth,
  SECONDARY_CONTROLS_MODE_BASED_EXECUTE,
  SECONDARY_CONTROLS_DESCRIPTOR_TABLE_EXITING,
  vmcsFieldWidth,
  vmcsFieldBits,
  vmcsTdxFieldSize,
  vmcsFieldCode,
} from './vmcs-field.js'
export type { VmcsFieldName } from './vmcs-field.js'
export {
  TdxInvdTranslations,
  encodeTdxVmFlags,
  decodeTdxVmFlags,
  encodeTdxL2Ctls,
  decodeTdxL2Ctls,
  encodeTdxGlaVmAndFlags,
  decodeTdxGlaVmAndFlags,
} from './vm-flags.js'
export type { L2VmIndex, TdxVmFlags, TdxL2Ctls, TdxGlaVmAndFlags } from './vm-flags.js'
export {
  encodeTdxGlaEntry,
  decodeTdxGlaEntry,
  encodeTdxGlaListInfo,
  decodeTdxGlaListInfo,
} from './gla-list.js'
export type { TdxGlaEntry, TdxGlaListInfo } from './gla-list.js'
export {
  MSR_BITMAP_WORDS,
  msrBitmapPosition,
  msrBitmapFieldId,
  msrBitmapWrite,
} from './msr-bitmap.js'
export type { MsrBitmapPosition } from './msr-bitmap.js'
export {
  TdxGp,
  TDX_L2_ENTER_GUEST_STATE_SIZE,
  encodeTdxL2EnterGuestState,
  decodeTdxL2EnterGuestState,
} from './l2-guest-state.js'
export type { TdxL2EnterGuestState } from './l2-guest-state.js'
export { VmxExitBasic, vmxExitBasicName, decodeVmxExit } from './vmx-exit.js'
export type { VmxExitBasicName, VmxExit } from './vmx-exit.js'
export { decodeTdxVpEnterResult } from './vp-enter-result.js'
export type { TdxVpEnterResult } from './vp-enter-result.js'
export {
  tdgMemPageAccept,
  tdgMemPageRelease,
  tdgMemPageAttrRd,
  tdgMemPageAttrWr,
  tdgVpRd,
  tdgVpWr,
  tdgVmRd,
  tdgVmWr,
  tdgSysRd,
  tdgVpEnter,
  tdgVpInvept,
  tdgVpInvgla,
} from './tdcall.js'
export type { TdcallInput, TdcallOutput } from './tdcall.js'
