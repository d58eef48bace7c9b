import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeTdxExtendedFieldCode } from './metadata-field.js'
import {
  SECONDARY_CONTROLS_DESCRIPTOR_TABLE_EXITING,
  SECONDARY_CONTROLS_MODE_BASED_EXECUTE,
  VmcsField,
  VmcsFieldWidth,
  vmcsFieldBits,
  vmcsFieldCode,
  vmcsFieldWidth,
  vmcsTdxFieldSize,
} from './vmcs-field.js'

const code = (c: string): Error => expect.objectContaining({ code: c }) as Error

// Encoding (Intel SDM App. B / openvmm vmx.rs) and width in bits, typed by hand.
const FIELDS: readonly (readonly [string, number, 16 | 32 | 64])[] = [
  ['GUEST_ES_SELECTOR', 0x0800, 16],
  ['GUEST_CS_SELECTOR', 0x0802, 16],
  ['GUEST_SS_SELECTOR', 0x0804, 16],
  ['GUEST_DS_SELECTOR', 0x0806, 16],
  ['GUEST_FS_SELECTOR', 0x0808, 16],
  ['GUEST_GS_SELECTOR', 0x080a, 16],
  ['GUEST_LDTR_SELECTOR', 0x080c, 16],
  ['GUEST_TR_SELECTOR', 0x080e, 16],
  ['VIRTUAL_APIC_PAGE', 0x2012, 64],
  ['EOI_EXIT_0', 0x201c, 64],
  ['EOI_EXIT_1', 0x201e, 64],
  ['EOI_EXIT_2', 0x2020, 64],
  ['EOI_EXIT_3', 0x2022, 64],
  ['GUEST_PAT', 0x2804, 64],
  ['GUEST_EFER', 0x2806, 64],
  ['PROCESSOR_CONTROLS', 0x4002, 32],
  ['EXCEPTION_BITMAP', 0x4004, 32],
  ['ENTRY_CONTROLS', 0x4012, 32],
  ['ENTRY_INTERRUPT_INFO', 0x4016, 32],
  ['ENTRY_EXCEPTION_ERROR_CODE', 0x4018, 32],
  ['ENTRY_INSTRUCTION_LENGTH', 0x401a, 32],
  ['TPR_THRESHOLD', 0x401c, 32],
  ['SECONDARY_PROCESSOR_CONTROLS', 0x401e, 32],
  ['GUEST_ES_LIMIT', 0x4800, 32],
  ['GUEST_CS_LIMIT', 0x4802, 32],
  ['GUEST_SS_LIMIT', 0x4804, 32],
  ['GUEST_DS_LIMIT', 0x4806, 32],
  ['GUEST_FS_LIMIT', 0x4808, 32],
  ['GUEST_GS_LIMIT', 0x480a, 32],
  ['GUEST_LDTR_LIMIT', 0x480c, 32],
  ['GUEST_TR_LIMIT', 0x480e, 32],
  ['GUEST_GDTR_LIMIT', 0x4810, 32],
  ['GUEST_IDTR_LIMIT', 0x4812, 32],
  ['GUEST_ES_AR', 0x4814, 32],
  ['GUEST_CS_AR', 0x4816, 32],
  ['GUEST_SS_AR', 0x4818, 32],
  ['GUEST_DS_AR', 0x481a, 32],
  ['GUEST_FS_AR', 0x481c, 32],
  ['GUEST_GS_AR', 0x481e, 32],
  ['GUEST_LDTR_AR', 0x4820, 32],
  ['GUEST_TR_AR', 0x4822, 32],
  ['GUEST_INTERRUPTIBILITY', 0x4824, 32],
  ['GUEST_SYSENTER_CS_MSR', 0x482a, 32],
  ['CR0_GUEST_HOST_MASK', 0x6000, 64],
  ['CR4_GUEST_HOST_MASK', 0x6002, 64],
  ['CR0_READ_SHADOW', 0x6004, 64],
  ['CR4_READ_SHADOW', 0x6006, 64],
  ['GUEST_CR0', 0x6800, 64],
  ['GUEST_CR3', 0x6802, 64],
  ['GUEST_CR4', 0x6804, 64],
  ['GUEST_ES_BASE', 0x6806, 64],
  ['GUEST_CS_BASE', 0x6808, 64],
  ['GUEST_SS_BASE', 0x680a, 64],
  ['GUEST_DS_BASE', 0x680c, 64],
  ['GUEST_FS_BASE', 0x680e, 64],
  ['GUEST_GS_BASE', 0x6810, 64],
  ['GUEST_LDTR_BASE', 0x6812, 64],
  ['GUEST_TR_BASE', 0x6814, 64],
  ['GUEST_GDTR_BASE', 0x6816, 64],
  ['GUEST_IDTR_BASE', 0x6818, 64],
  ['GUEST_DR7', 0x681a, 64],
  ['GUEST_SYSENTER_ESP_MSR', 0x6824, 64],
  ['GUEST_SYSENTER_EIP_MSR', 0x6826, 64],
]

describe('VmcsField', () => {
  it('lists exactly the fields above', () => {
    expect(Object.keys(VmcsField).sort()).toEqual(FIELDS.map(([n]) => n).sort())
  })

  it.each(FIELDS)('%s = %i is %i-bit', (name, encoding, bits) => {
    expect((VmcsField as Record<string, number>)[name]).toBe(encoding)
    expect(vmcsFieldBits(encoding)).toBe(bits)
  })

  it('reads the width code from bits 14:13, 64-bit before 32-bit', () => {
    expect(vmcsFieldWidth(0x0800)).toBe(VmcsFieldWidth.Width16)
    expect(vmcsFieldWidth(0x2012)).toBe(VmcsFieldWidth.Width64)
    expect(vmcsFieldWidth(0x401e)).toBe(VmcsFieldWidth.Width32)
    expect(vmcsFieldWidth(0x6800)).toBe(VmcsFieldWidth.WidthNatural)
    expect(VmcsFieldWidth).toEqual({ Width16: 0, Width64: 1, Width32: 2, WidthNatural: 3 })
    expect(vmcsTdxFieldSize(0x0800)).toBe(1)
    expect(vmcsTdxFieldSize(0x4016)).toBe(2)
    expect(vmcsTdxFieldSize(0x2806)).toBe(3)
    expect(vmcsTdxFieldSize(0x681a)).toBe(3)
  })

  it('secondary-controls bits', () => {
    expect(SECONDARY_CONTROLS_MODE_BASED_EXECUTE).toBe(0x0040_0000)
    expect(SECONDARY_CONTROLS_DESCRIPTOR_TABLE_EXITING).toBe(0x4)
  })

  it.each([
    [0x1000, 'E_RESERVED_BITS'],
    [0x8000, 'E_RESERVED_BITS'],
    [0x1_0000, 'E_RESERVED_BITS'],
    [-1, 'E_FIELD_RANGE'],
    [1.5, 'E_FIELD_RANGE'],
  ])('rejects encoding %d with %s', (encoding, expected) => {
    expect(() => vmcsFieldWidth(encoding)).toThrow(code(expected))
  })
})

describe('vmcsFieldCode', () => {
  it.each([
    // class 44 (0x2C) for VTL1, 36 (0x24) for VTL0; context 2 → 0x20 in bits 55:48; size in 33:32.
    [1, 0x2012, 0x2c20_0003_0000_2012n],
    [0, 0x2012, 0x2420_0003_0000_2012n],
    [0, 0x401e, 0x2420_0002_0000_401en],
    [1, 0x4016, 0x2c20_0002_0000_4016n],
    [1, 0x0800, 0x2c20_0001_0000_0800n],
    [1, 0x6800, 0x2c20_0003_0000_6800n],
    [0, 0x2806, 0x2420_0003_0000_2806n],
    [0, 0x6000, 0x2420_0003_0000_6000n],
  ] as const)('VTL%i field %i → %s', (vtl, encoding, id) => {
    expect(vmcsFieldCode(vtl, encoding)).toBe(id)
  })

  it('agrees with the OpenHCL kernel’s literal VTL0 vAPIC field (class 36, context 2, size 3)', () => {
    expect(decodeTdxExtendedFieldCode(vmcsFieldCode(0, VmcsField.VIRTUAL_APIC_PAGE))).toEqual({
      fieldCode: 0x2012,
      fieldSize: 3,
      lastElement: 0,
      lastField: 0,
      incrementSize: false,
      writeMaskValid: false,
      contextCode: 2,
      classCode: 36,
      nonArch: false,
    })
  })

  it('refuses the HIGH access type and reserved encoding bits', () => {
    expect(() => vmcsFieldCode(0, 0x2013)).toThrow(code('E_INVALID_VALUE'))
    expect(() => vmcsFieldCode(0, 0x1000 | 0x2012)).toThrow(code('E_RESERVED_BITS'))
    expect(() => vmcsFieldCode(0, 0x2_2012)).toThrow(code('E_RESERVED_BITS'))
  })

  it('refuses VTL2', () => {
    expect(() => vmcsFieldCode(2 as 0, 0x2012)).toThrow(code('E_FIELD_RANGE'))
  })

  it('decodes back to the encoding, the VTL’s class and the width’s size for every field', () => {
    const encodings = Object.values(VmcsField)
    fc.assert(
      fc.property(
        fc.constantFrom(...encodings),
        fc.constantFrom(0 as const, 1 as const),
        (e, v) => {
          const decoded = decodeTdxExtendedFieldCode(vmcsFieldCode(v, e))
          expect(decoded.fieldCode).toBe(e)
          expect(decoded.classCode).toBe(v === 0 ? 36 : 44)
          expect(decoded.contextCode).toBe(2)
          expect(decoded.fieldSize).toBe({ 16: 1, 32: 2, 64: 3 }[vmcsFieldBits(e)])
        }
      )
    )
  })
})
