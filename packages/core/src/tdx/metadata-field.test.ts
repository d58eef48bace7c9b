import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  TDCS_CONFIG_FLAGS,
  TDCS_CONFIG_FLAGS_ARCH,
  TDCS_NOTIFY_ENABLES,
  TDCS_TD_CTLS,
  TDCS_TD_CTLS_NON_ARCH,
  TDVPS_L2_CTLS_VM1,
  TDVPS_L2_CTLS_VM2,
  TDVPS_TSC_DEADLINE_BASE,
  TDX_FEATURES0,
  TdVpsClassCode,
  TdcsConfigFlags,
  TdxContextCode,
  TdxFieldSize,
  decodeTdxExtendedFieldCode,
  encodeTdxExtendedFieldCode,
  l2CtlsFieldId,
  tdVpsFieldId,
  tdxFieldSizeBits,
  tscDeadlineFieldId,
  type TdxExtendedFieldCode,
} from './metadata-field.js'

const code = (c: string): Error => expect.objectContaining({ code: c }) as Error

const plain = {
  lastElement: 0,
  lastField: 0,
  incrementSize: false,
  writeMaskValid: false,
}

// Literal ids decoded by hand, bit by bit.
const IDS: readonly (readonly [string, bigint, TdxExtendedFieldCode])[] = [
  [
    // 0xA0 = 1010 0000: bit 63 set, class 0b100000 = 32; 0x20 in bits 55:48 = context 2.
    'L2_CTLS VM1',
    0xa020_0003_0000_0051n,
    { ...plain, fieldCode: 0x51, fieldSize: 3, contextCode: 2, classCode: 32, nonArch: true },
  ],
  [
    'L2_CTLS VM2',
    0xa020_0003_0000_0052n,
    { ...plain, fieldCode: 0x52, fieldSize: 3, contextCode: 2, classCode: 32, nonArch: true },
  ],
  [
    // 0x91 = 1001 0001: bit 63, class 0b010001 = 17; 0x10 = context 1 (TD).
    'CONFIG_FLAGS (openvmm)',
    0x9110_0003_0000_0016n,
    { ...plain, fieldCode: 0x16, fieldSize: 3, contextCode: 1, classCode: 17, nonArch: true },
  ],
  [
    'CONFIG_FLAGS (Linux)',
    0x1110_0003_0000_0016n,
    { ...plain, fieldCode: 0x16, fieldSize: 3, contextCode: 1, classCode: 17, nonArch: false },
  ],
  [
    'TD_CTLS (Linux)',
    0x1110_0003_0000_0017n,
    { ...plain, fieldCode: 0x17, fieldSize: 3, contextCode: 1, classCode: 17, nonArch: false },
  ],
  [
    'NOTIFY_ENABLES',
    0x9100_0000_0000_0010n,
    { ...plain, fieldCode: 0x10, fieldSize: 0, contextCode: 0, classCode: 17, nonArch: true },
  ],
  [
    // 0x0A = class 10, context 0 (platform).
    'TDX_FEATURES0',
    0x0a00_0003_0000_0008n,
    { ...plain, fieldCode: 0x08, fieldSize: 3, contextCode: 0, classCode: 10, nonArch: false },
  ],
  [
    // 0x90 = bit 63 + class 16; 16-bit element.
    'NUM_L2_VMS',
    0x9010_0001_0000_0005n,
    { ...plain, fieldCode: 0x05, fieldSize: 1, contextCode: 1, classCode: 16, nonArch: true },
  ],
  [
    // class 44 = 0x2C, context 2, 64-bit, VMX encoding 0x2012.
    'VMCS_2 VIRTUAL_APIC_PAGE',
    0x2c20_0003_0000_2012n,
    { ...plain, fieldCode: 0x2012, fieldSize: 3, contextCode: 2, classCode: 44, nonArch: false },
  ],
  [
    // 0x1C in bits 55:48: context 1 + write_mask_valid + increment_size; 0x008F in 47:32:
    // last_field 2 (bits 46:38), last_element 3 (37:34), size 3.
    'a sequence id with every flag',
    0x111c_008f_0000_0010n,
    {
      fieldCode: 0x10,
      fieldSize: 3,
      lastElement: 3,
      lastField: 2,
      incrementSize: true,
      writeMaskValid: true,
      contextCode: 1,
      classCode: 17,
      nonArch: false,
    },
  ],
]

describe('TdxExtendedFieldCode', () => {
  it.each(IDS)('%s: %s decodes and re-encodes', (_label, id, decoded) => {
    expect(decodeTdxExtendedFieldCode(id)).toEqual(decoded)
    expect(encodeTdxExtendedFieldCode(decoded)).toBe(id)
  })

  it.each([
    ['bit 24', 0x0000_0000_0100_0000n],
    ['bit 31', 0x0000_0000_8000_0000n],
    ['bit 47', 0x0000_8000_0000_0000n],
    ['bit 49', 0x0002_0000_0000_0000n],
    ['bit 55', 0x0080_0000_0000_0000n],
    ['bit 62', 0x4000_0000_0000_0000n],
  ])('rejects reserved %s with E_RESERVED_BITS', (_label, id) => {
    expect(() => decodeTdxExtendedFieldCode(id)).toThrow(code('E_RESERVED_BITS'))
  })

  it('rejects undefined context codes and non-u64 ids', () => {
    expect(() => decodeTdxExtendedFieldCode(0x0030_0000_0000_0000n)).toThrow(code('E_FIELD_RANGE'))
    expect(() => decodeTdxExtendedFieldCode(0x0070_0000_0000_0000n)).toThrow(code('E_FIELD_RANGE'))
    expect(() => decodeTdxExtendedFieldCode(-1n)).toThrow(code('E_FIELD_RANGE'))
    expect(() => decodeTdxExtendedFieldCode(1n << 64n)).toThrow(code('E_FIELD_RANGE'))
  })

  it('rejects out-of-range fields on encode', () => {
    const base = { fieldCode: 0, fieldSize: 3, contextCode: 2, classCode: 36 } as const
    expect(() => encodeTdxExtendedFieldCode({ ...base, fieldCode: 0x100_0000 })).toThrow(
      code('E_FIELD_RANGE')
    )
    expect(() => encodeTdxExtendedFieldCode({ ...base, classCode: 64 })).toThrow(
      code('E_FIELD_RANGE')
    )
    expect(() => encodeTdxExtendedFieldCode({ ...base, contextCode: 3 as TdxContextCode })).toThrow(
      code('E_FIELD_RANGE')
    )
    expect(() => encodeTdxExtendedFieldCode({ ...base, lastElement: 16 })).toThrow(
      code('E_FIELD_RANGE')
    )
    expect(() => encodeTdxExtendedFieldCode({ ...base, lastField: 512 })).toThrow(
      code('E_FIELD_RANGE')
    )
    expect(() => encodeTdxExtendedFieldCode({ ...base, fieldSize: 4 as TdxFieldSize })).toThrow(
      code('E_FIELD_RANGE')
    )
  })

  it('round-trips every valid field id', () => {
    const field = fc.record({
      fieldCode: fc.nat({ max: 0xff_ffff }),
      fieldSize: fc.constantFrom<TdxFieldSize>(0, 1, 2, 3),
      lastElement: fc.nat({ max: 15 }),
      lastField: fc.nat({ max: 511 }),
      incrementSize: fc.boolean(),
      writeMaskValid: fc.boolean(),
      contextCode: fc.constantFrom<TdxContextCode>(0, 1, 2),
      classCode: fc.nat({ max: 63 }),
      nonArch: fc.boolean(),
    })
    fc.assert(
      fc.property(field, (f) => {
        expect(decodeTdxExtendedFieldCode(encodeTdxExtendedFieldCode(f))).toEqual(f)
      })
    )
  })

  it('decode then encode is the identity on ids without reserved bits', () => {
    const RESERVED = 0x4083_8000_ff00_0000n // bits 62, 55, 49:47, 31:24
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }), (raw) => {
        const id = raw & ~RESERVED & ~(6n << 52n) // bits 54:53 clear: context 0 or 1
        expect(encodeTdxExtendedFieldCode(decodeTdxExtendedFieldCode(id))).toBe(id)
      })
    )
  })
})

describe('well-known field ids', () => {
  it('match the literal values of abi.md §3.7 and vsm-on-tdx.md §6.1', () => {
    expect(TDCS_CONFIG_FLAGS).toBe(0x9110_0003_0000_0016n)
    expect(TDCS_CONFIG_FLAGS_ARCH).toBe(0x1110_0003_0000_0016n)
    expect(TDCS_CONFIG_FLAGS ^ TDCS_CONFIG_FLAGS_ARCH).toBe(1n << 63n)
    expect(TDCS_TD_CTLS).toBe(0x1110_0003_0000_0017n)
    expect(TDCS_TD_CTLS_NON_ARCH).toBe(0x9110_0003_0000_0017n)
    expect(TDCS_NOTIFY_ENABLES).toBe(0x9100_0000_0000_0010n)
    expect(TDX_FEATURES0).toBe(0x0a00_0003_0000_0008n)
    expect(TDVPS_TSC_DEADLINE_BASE).toBe(0xa020_0003_0000_0058n)
  })

  it('L2_CTLS for VM2 is …52, not the old copy of VM1’s …51', () => {
    expect(TDVPS_L2_CTLS_VM1).toBe(0xa020_0003_0000_0051n)
    expect(TDVPS_L2_CTLS_VM2).toBe(0xa020_0003_0000_0052n)
    expect(l2CtlsFieldId(1)).toBe(0xa020_0003_0000_0051n)
    expect(l2CtlsFieldId(2)).toBe(0xa020_0003_0000_0052n)
    expect(l2CtlsFieldId(3)).toBe(0xa020_0003_0000_0053n)
  })

  it('TSC_DEADLINE of VM n is base + n (the kernel writes base + vm_idx)', () => {
    expect(tscDeadlineFieldId(1)).toBe(0xa020_0003_0000_0059n)
    expect(tscDeadlineFieldId(2)).toBe(0xa020_0003_0000_005an)
    expect(tscDeadlineFieldId(3)).toBe(0xa020_0003_0000_005bn)
  })

  it('rejects VM index 0 and 4', () => {
    expect(() => l2CtlsFieldId(0 as 1)).toThrow(code('E_FIELD_RANGE'))
    expect(() => tscDeadlineFieldId(4 as 1)).toThrow(code('E_FIELD_RANGE'))
  })

  it('CONFIG_FLAGS bits', () => {
    expect(TdcsConfigFlags.GPAW).toBe(1n)
    expect(TdcsConfigFlags.FLEXIBLE_PENDING_VE).toBe(2n)
    expect(TdcsConfigFlags.PAGE_RELEASE).toBe(0x40n)
    expect(TdcsConfigFlags.SEALING).toBe(0x80n)
  })
})

describe('class codes and sizes', () => {
  it.each([
    ['TD_VMCS', 0],
    ['VAPIC', 1],
    ['VE_INFO', 2],
    ['GUEST_GPR_STATE', 16],
    ['GUEST_STATE', 17],
    ['GUEST_EXT_STATE', 18],
    ['GUEST_MSR_STATE', 19],
    ['MANAGEMENT', 32],
    ['CPUID_CONTROL', 33],
    ['EPT_VIOLATION_LOG', 34],
    ['VMCS_1', 36],
    ['MSR_BITMAPS_1', 37],
    ['MSR_BITMAPS_SHADOW_1', 38],
    ['VMCS_2', 44],
    ['MSR_BITMAPS_2', 45],
    ['MSR_BITMAPS_SHADOW_2', 46],
    ['VMCS_3', 52],
  ])('TdVpsClassCode.%s = %i', (name, value) => {
    expect((TdVpsClassCode as Record<string, number>)[name]).toBe(value)
  })

  it('has 17 class codes', () => {
    expect(Object.keys(TdVpsClassCode)).toHaveLength(17)
  })

  it('field size codes map to 8/16/32/64 bits', () => {
    expect([0, 1, 2, 3].map((s) => tdxFieldSizeBits(s as TdxFieldSize))).toEqual([8, 16, 32, 64])
    expect(TdxContextCode).toEqual({ PLATFORM: 0, TD: 1, TD_VCPU: 2 })
  })

  it('tdVpsFieldId builds a TD_VCPU id', () => {
    expect(tdVpsFieldId(TdVpsClassCode.MSR_BITMAPS_2, 0x182, TdxFieldSize.Size64Bit)).toBe(
      0x2d20_0003_0000_0182n
    )
  })
})
