import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bytes, expectVtlError, toHex, u128, u24, u32, u64, u8 } from './testing/arbitraries.js'
import {
  decodeGetSetVpRegistersHeader,
  decodeGetVpRegisters,
  decodeRegisterValues,
  decodeSetVpRegisters,
  encodeGetVpRegisters,
  encodeRegisterValues,
  encodeSetVpRegisters,
  readRegisterAssocs,
  readRegisterNames,
} from './vp-registers.js'

// SELF, HV_VP_INDEX_SELF, HvInputVtl 0x10 (VTL0 explicitly).
const HEADER_HEX = 'ffffffffffffffff feffffff 10 000000'
const HEADER = {
  partitionId: 0xffff_ffff_ffff_ffffn,
  vpIndex: 0xffff_fffe,
  targetVtl: 0x10,
  reserved: 0,
}

describe('GetVpRegisters', () => {
  // VsmPartitionConfig (0x000D0007) and Rip (0x00020010), packed right after the header: the
  // input is 16 + 4·n bytes with no padding to 8 (hv1_hypercall's rep input size).
  const RAW = bytes(`${HEADER_HEX} 07000d00 10000200`)

  it('encodes the names packed after the header', () => {
    expect(toHex(encodeGetVpRegisters(HEADER, [0x000d0007, 0x00020010]))).toBe(toHex(RAW))
    expect(RAW.byteLength).toBe(24)
  })

  it('decodes header and names', () => {
    expect(decodeGetVpRegisters(RAW)).toEqual({
      header: HEADER,
      names: [0x000d0007, 0x00020010],
    })
    expect(readRegisterNames(RAW, 20, 1)).toEqual([0x00020010])
  })

  it('writes one 16-byte little-endian value per name', () => {
    const out = bytes(`
      02000200000000000000000000000000
      05000000000000000000000000000080
    `)
    const values = [0x20002n, (1n << 127n) | 5n]
    expect(toHex(encodeRegisterValues(values))).toBe(toHex(out))
    expect(decodeRegisterValues(out)).toEqual(values)
  })

  it('refuses bad lengths and values', () => {
    expectVtlError(
      () => decodeGetVpRegisters(RAW.subarray(0, 22)),
      'E_DECODE_LENGTH',
      'GetVpRegisters'
    )
    expectVtlError(() => decodeGetSetVpRegistersHeader(new Uint8Array(12)), 'E_DECODE_LENGTH')
    expectVtlError(() => readRegisterNames(RAW, 16, 3), 'E_DECODE_LENGTH')
    expectVtlError(() => decodeRegisterValues(new Uint8Array(17)), 'E_DECODE_LENGTH')
    expectVtlError(
      () => encodeRegisterValues([1n << 128n]),
      'E_FIELD_RANGE',
      'GetVpRegisters.values[0]'
    )
    expectVtlError(
      () => encodeGetVpRegisters(HEADER, [-1]),
      'E_FIELD_RANGE',
      'GetVpRegisters.names[0]'
    )
    expectVtlError(
      () => encodeGetVpRegisters({ ...HEADER, vpIndex: -1 }, []),
      'E_FIELD_RANGE',
      'GetSetVpRegisters.vpIndex'
    )
  })

  it('round-trips', () => {
    fc.assert(
      fc.property(u64, u32, u8, u24, fc.array(u32, { maxLength: 16 }), (p, vp, t, r, names) => {
        const header = { partitionId: p, vpIndex: vp, targetVtl: t, reserved: r }
        expect(decodeGetVpRegisters(encodeGetVpRegisters(header, names))).toEqual({ header, names })
      })
    )
    fc.assert(
      fc.property(fc.array(u128, { maxLength: 16 }), (values) => {
        expect(decodeRegisterValues(encodeRegisterValues(values))).toEqual(values)
      })
    )
  })
})

describe('SetVpRegisters (HvRegisterAssoc, 32 B: name @0, padding @4, value @16)', () => {
  const RAW = bytes(`
    ${HEADER_HEX}
    07000d00 000000000000000000000000 1f000000000000000000000000000000
    11000200 000000000000000000000000 0200000000000000ffffffffffffffff
  `)
  const REGISTERS = [
    { name: 0x000d0007, value: 0x1fn },
    { name: 0x00020011, value: (0xffff_ffff_ffff_ffffn << 64n) | 2n },
  ]

  it('encodes to the hand-written bytes', () => {
    expect(toHex(encodeSetVpRegisters(HEADER, REGISTERS))).toBe(toHex(RAW))
  })

  it('decodes, ignoring the padding', () => {
    const dirty = RAW.slice()
    dirty.fill(0xaa, 20, 32)
    expect(decodeSetVpRegisters(dirty)).toEqual({ header: HEADER, registers: REGISTERS })
    expect(readRegisterAssocs(RAW, 48, 1)).toEqual([REGISTERS[1]])
  })

  it('refuses bad lengths and values', () => {
    expectVtlError(
      () => decodeSetVpRegisters(RAW.subarray(0, 40)),
      'E_DECODE_LENGTH',
      'SetVpRegisters'
    )
    expectVtlError(() => readRegisterAssocs(RAW, 16, 3), 'E_DECODE_LENGTH')
    expectVtlError(
      () => encodeSetVpRegisters(HEADER, [{ name: 1, value: -1n }]),
      'E_FIELD_RANGE',
      'SetVpRegisters.registers[0].value'
    )
  })

  it('round-trips', () => {
    fc.assert(
      fc.property(
        u64,
        u32,
        u8,
        u24,
        fc.array(fc.record({ name: u32, value: u128 }), { maxLength: 8 }),
        (p, vp, t, r, registers) => {
          const header = { partitionId: p, vpIndex: vp, targetVtl: t, reserved: r }
          expect(decodeSetVpRegisters(encodeSetVpRegisters(header, registers))).toEqual({
            header,
            registers,
          })
        }
      )
    )
  })
})
