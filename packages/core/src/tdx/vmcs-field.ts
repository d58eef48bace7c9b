import { VtlError } from '../errors/vtl-error.js'
import type { GuestVtl } from '../hv/vtl.js'
import {
  TdVpsClassCode,
  TdxFieldSize,
  TdxContextCode,
  encodeTdxExtendedFieldCode,
} from './metadata-field.js'
import { checkInt } from './u64.js'

/**
 * The VMX field encodings (Intel SDM Appendix B) that the paravisor reads and writes through
 * TDG.VP.RD/WR, named as openvmm's `VmcsField` without the `VMX_VMCS_` prefix. The width is part
 * of the encoding (bits 14:13), see `vmcsFieldWidth`.
 */
export const VmcsField = {
  // 16-bit guest-state fields.
  GUEST_ES_SELECTOR: 0x0800,
  GUEST_CS_SELECTOR: 0x0802,
  GUEST_SS_SELECTOR: 0x0804,
  GUEST_DS_SELECTOR: 0x0806,
  GUEST_FS_SELECTOR: 0x0808,
  GUEST_GS_SELECTOR: 0x080a,
  GUEST_LDTR_SELECTOR: 0x080c,
  GUEST_TR_SELECTOR: 0x080e,
  // 64-bit control fields.
  VIRTUAL_APIC_PAGE: 0x2012,
  EOI_EXIT_0: 0x201c,
  EOI_EXIT_1: 0x201e,
  EOI_EXIT_2: 0x2020,
  EOI_EXIT_3: 0x2022,
  // 64-bit guest-state fields.
  GUEST_PAT: 0x2804,
  GUEST_EFER: 0x2806,
  // 32-bit control fields.
  PROCESSOR_CONTROLS: 0x4002,
  EXCEPTION_BITMAP: 0x4004,
  ENTRY_CONTROLS: 0x4012,
  ENTRY_INTERRUPT_INFO: 0x4016,
  ENTRY_EXCEPTION_ERROR_CODE: 0x4018,
  ENTRY_INSTRUCTION_LENGTH: 0x401a,
  TPR_THRESHOLD: 0x401c,
  SECONDARY_PROCESSOR_CONTROLS: 0x401e,
  // 32-bit guest-state fields.
  GUEST_ES_LIMIT: 0x4800,
  GUEST_CS_LIMIT: 0x4802,
  GUEST_SS_LIMIT: 0x4804,
  GUEST_DS_LIMIT: 0x4806,
  GUEST_FS_LIMIT: 0x4808,
  GUEST_GS_LIMIT: 0x480a,
  GUEST_LDTR_LIMIT: 0x480c,
  GUEST_TR_LIMIT: 0x480e,
  GUEST_GDTR_LIMIT: 0x4810,
  GUEST_IDTR_LIMIT: 0x4812,
  GUEST_ES_AR: 0x4814,
  GUEST_CS_AR: 0x4816,
  GUEST_SS_AR: 0x4818,
  GUEST_DS_AR: 0x481a,
  GUEST_FS_AR: 0x481c,
  GUEST_GS_AR: 0x481e,
  GUEST_LDTR_AR: 0x4820,
  GUEST_TR_AR: 0x4822,
  GUEST_INTERRUPTIBILITY: 0x4824,
  GUEST_SYSENTER_CS_MSR: 0x482a,
  // Natural-width control fields.
  CR0_GUEST_HOST_MASK: 0x6000,
  CR4_GUEST_HOST_MASK: 0x6002,
  CR0_READ_SHADOW: 0x6004,
  CR4_READ_SHADOW: 0x6006,
  // Natural-width guest-state fields.
  GUEST_CR0: 0x6800,
  GUEST_CR3: 0x6802,
  GUEST_CR4: 0x6804,
  GUEST_ES_BASE: 0x6806,
  GUEST_CS_BASE: 0x6808,
  GUEST_SS_BASE: 0x680a,
  GUEST_DS_BASE: 0x680c,
  GUEST_FS_BASE: 0x680e,
  GUEST_GS_BASE: 0x6810,
  GUEST_LDTR_BASE: 0x6812,
  GUEST_TR_BASE: 0x6814,
  GUEST_GDTR_BASE: 0x6816,
  GUEST_IDTR_BASE: 0x6818,
  GUEST_DR7: 0x681a,
  GUEST_SYSENTER_ESP_MSR: 0x6824,
  GUEST_SYSENTER_EIP_MSR: 0x6826,
} as const

export type VmcsFieldName = keyof typeof VmcsField
export type VmcsField = (typeof VmcsField)[VmcsFieldName]

/** `SECONDARY_PROCESSOR_CONTROLS` bit 22: MBEC, which OpenHCL always sets for VTL0 (§5.7). */
export const SECONDARY_CONTROLS_MODE_BASED_EXECUTE = 1 << 22
/** `SECONDARY_PROCESSOR_CONTROLS` bit 2: descriptor-table exiting (VTL1 GDTR/IDTR intercepts). */
export const SECONDARY_CONTROLS_DESCRIPTOR_TABLE_EXITING = 1 << 2

/** The width code in bits 14:13 of a VMX encoding. Note the order: 1 is 64-bit, 2 is 32-bit. */
export const VmcsFieldWidth = {
  Width16: 0,
  Width64: 1,
  Width32: 2,
  /** 64 bits on x64. */
  WidthNatural: 3,
} as const
export type VmcsFieldWidth = (typeof VmcsFieldWidth)[keyof typeof VmcsFieldWidth]

// Bit 12 and bits 31:15 of a VMX encoding are reserved.
const ENCODING_RESERVED = ~0x6fff >>> 0

function checkEncoding(encoding: number): void {
  checkInt(encoding, 0, 0xffff_ffff, 'vmcsField')
  if ((encoding & ENCODING_RESERVED) >>> 0 !== 0) {
    throw new VtlError(
      'E_RESERVED_BITS',
      `VMCS encoding 0x${encoding.toString(16)} has reserved bits set`,
      { field: 'vmcsField' }
    )
  }
}

export function vmcsFieldWidth(encoding: number): VmcsFieldWidth {
  checkEncoding(encoding)
  return ((encoding >>> 13) & 3) as VmcsFieldWidth
}

/** The field's width in bits as the paravisor sees it (natural width = 64). */
export function vmcsFieldBits(encoding: number): 16 | 32 | 64 {
  const width = vmcsFieldWidth(encoding)
  return width === VmcsFieldWidth.Width16 ? 16 : width === VmcsFieldWidth.Width32 ? 32 : 64
}

/** The TDX element size that carries a VMX field of this encoding. */
export function vmcsTdxFieldSize(encoding: number): TdxFieldSize {
  const bits = vmcsFieldBits(encoding)
  return bits === 16
    ? TdxFieldSize.Size16Bit
    : bits === 32
      ? TdxFieldSize.Size32Bit
      : TdxFieldSize.Size64Bit
}

/**
 * The TDG.VP.RD/WR field id of VMX field `encoding` in `vtl`'s VMCS, as
 * `openhcl/hcl/src/ioctl/tdx.rs::vmcs_field_code` builds it: context TD_VCPU, class VMCS_1
 * (VTL0) or VMCS_2 (VTL1), field code = the whole encoding, size from the VMX width.
 * An encoding with access type HIGH (bit 0 of a 64-bit field) is refused: a TDX metadata access
 * always moves the whole field, so the "high half" encoding names nothing there.
 */
export function vmcsFieldCode(vtl: GuestVtl, encoding: number): bigint {
  checkInt(vtl, 0, 1, 'vtl')
  const fieldSize = vmcsTdxFieldSize(encoding)
  if ((encoding & 1) !== 0) {
    throw new VtlError(
      'E_INVALID_VALUE',
      `VMCS encoding 0x${encoding.toString(16)} uses access type HIGH or is not a field start`,
      { field: 'vmcsField' }
    )
  }
  return encodeTdxExtendedFieldCode({
    contextCode: TdxContextCode.TD_VCPU,
    classCode: vtl === 0 ? TdVpsClassCode.VMCS_1 : TdVpsClassCode.VMCS_2,
    fieldCode: encoding,
    fieldSize,
  })
}
