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
