import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  MAX_OPERAND_GPN,
  PAGES_PER_LEVEL,
  decodeGpaOperand,
  encodeGpaOperand,
  type PageLevel,
} from './gpa-operand.js'

const code = (c: string): Error => expect.objectContaining({ code: c }) as Error

describe('GPA operand (level 2:0, GPN 51:12)', () => {
  it('has the level sizes and GPN limit of abi.md §3.4', () => {
    expect(PAGES_PER_LEVEL).toEqual({ 0: 1n, 1: 512n, 2: 262144n })
    expect(MAX_OPERAND_GPN).toBe(0xff_ffff_ffffn)
  })

  it.each([
    [0, 0x1n, 0x1000n],
    [0, 0x0n, 0x0n],
    [1, 0x200n, 0x20_0001n],
    [2, 0x4_0000n, 0x4000_0002n],
    [0, 0xff_ffff_ffffn, 0x000f_ffff_ffff_f000n],
    [1, 0xff_ffff_fe00n, 0x000f_ffff_ffe0_0001n],
  ] as const)('level %i GPN %s ↔ %s', (level, gpn, rcx) => {
    expect(encodeGpaOperand({ level, gpn })).toBe(rcx)
    expect(decodeGpaOperand(rcx)).toEqual({ level, gpn, flags: 0n })
  })

  it('refuses a GPN not aligned to its level', () => {
    expect(() => encodeGpaOperand({ level: 1, gpn: 0x201n })).toThrow(code('E_UNALIGNED'))
    expect(() => encodeGpaOperand({ level: 2, gpn: 0x200n })).toThrow(code('E_UNALIGNED'))
  })

  it('refuses GPNs beyond 40 bits and unknown levels', () => {
    expect(() => encodeGpaOperand({ level: 0, gpn: 1n << 40n })).toThrow(code('E_FIELD_RANGE'))
    expect(() => encodeGpaOperand({ level: 0, gpn: -1n })).toThrow(code('E_FIELD_RANGE'))
    expect(() => encodeGpaOperand({ level: 3 as PageLevel, gpn: 0n })).toThrow(
      code('E_FIELD_RANGE')
    )
  })

  it('decode rejects reserved bits 11:3 and level 3–7', () => {
    expect(() => decodeGpaOperand(0x1008n)).toThrow(code('E_RESERVED_BITS'))
    expect(() => decodeGpaOperand(0x1800n)).toThrow(code('E_RESERVED_BITS'))
    expect(() => decodeGpaOperand(0x3n)).toThrow(code('E_FIELD_RANGE'))
    expect(() => decodeGpaOperand(0x7n)).toThrow(code('E_FIELD_RANGE'))
    expect(() => decodeGpaOperand(-1n)).toThrow(code('E_FIELD_RANGE'))
  })

  it('decode returns bits 63:52 as flags (ATTR.RD PENDING = bit 62, RELEASE MMIO = bit 61)', () => {
    expect(decodeGpaOperand(0x4000_0000_0000_1000n)).toEqual({ level: 0, gpn: 1n, flags: 0x400n })
    expect(decodeGpaOperand(0x2000_0000_0020_0001n)).toEqual({
      level: 1,
      gpn: 0x200n,
      flags: 0x200n,
    })
  })

  it('round-trips every aligned operand', () => {
    const operand = fc
      .constantFrom<PageLevel>(0, 1, 2)
      .chain((level) =>
        fc
          .bigInt({ min: 0n, max: MAX_OPERAND_GPN / PAGES_PER_LEVEL[level] })
          .map((n) => ({ level, gpn: n * PAGES_PER_LEVEL[level] }))
      )
    fc.assert(
      fc.property(operand, (op) => {
        expect(decodeGpaOperand(encodeGpaOperand(op))).toEqual({ ...op, flags: 0n })
      })
    )
  })
})
