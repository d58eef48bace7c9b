import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  TDX_L2_ENTER_GUEST_STATE_SIZE,
  TdxGp,
  decodeTdxL2EnterGuestState,
  encodeTdxL2EnterGuestState,
  type TdxL2EnterGuestState,
} from './l2-guest-state.js'

const code = (c: string): Error => expect.objectContaining({ code: c }) as Error

function sample(): TdxL2EnterGuestState {
  const gps = Array.from({ length: 16 }, () => 0n)
  gps[TdxGp.RAX] = 0x0102_0304_0506_0708n
  gps[TdxGp.RCX] = 0x1111_2222_3333_4444n
  gps[TdxGp.RSP] = 0x7fff_ffff_e000n
  gps[TdxGp.R15] = 0xffff_ffff_ffff_ffffn
  return {
    gps,
    rflags: 0x2n,
    rip: 0xffff_ffff_ffff_fff0n,
    ssp: 0x1234n,
    rvi: 0x31,
    svi: 0x41,
  }
}

describe('TdxL2EnterGuestState', () => {
  it('is 160 bytes with GPRs in x86 order', () => {
    expect(TDX_L2_ENTER_GUEST_STATE_SIZE).toBe(160)
    expect(TdxGp).toMatchObject({ RAX: 0, RCX: 1, RDX: 2, RBX: 3, RSP: 4, RBP: 5, RSI: 6, RDI: 7 })
    expect(TdxGp.R8).toBe(8)
    expect(TdxGp.R15).toBe(15)
  })

  it('lays the fields out little-endian at the spec offsets', () => {
    const bytes = encodeTdxL2EnterGuestState(sample())
    expect(bytes).toHaveLength(160)
    // RAX @0
    expect([...bytes.subarray(0, 8)]).toEqual([8, 7, 6, 5, 4, 3, 2, 1])
    // RCX @8
    expect([...bytes.subarray(8, 16)]).toEqual([0x44, 0x44, 0x33, 0x33, 0x22, 0x22, 0x11, 0x11])
    // RSP @32
    expect([...bytes.subarray(32, 40)]).toEqual([0x00, 0xe0, 0xff, 0xff, 0xff, 0x7f, 0, 0])
    // R15 @120
    expect([...bytes.subarray(120, 128)]).toEqual([255, 255, 255, 255, 255, 255, 255, 255])
    // RFLAGS @128, RIP @136, SSP @144
    expect([...bytes.subarray(128, 136)]).toEqual([2, 0, 0, 0, 0, 0, 0, 0])
    expect([...bytes.subarray(136, 144)]).toEqual([0xf0, 255, 255, 255, 255, 255, 255, 255])
    expect([...bytes.subarray(144, 152)]).toEqual([0x34, 0x12, 0, 0, 0, 0, 0, 0])
    // RVI @152, SVI @153, six reserved zero bytes
    expect(bytes[152]).toBe(0x31)
    expect(bytes[153]).toBe(0x41)
    expect([...bytes.subarray(154)]).toEqual([0, 0, 0, 0, 0, 0])
    // RDX..RBX, RBP..R14 are zero
    expect(bytes.subarray(16, 32).every((b) => b === 0)).toBe(true)
    expect(bytes.subarray(40, 120).every((b) => b === 0)).toBe(true)
  })

  it('decodes what it encodes, also from inside a larger buffer (run page @512)', () => {
    const runPage = new Uint8Array(4096)
    runPage.set(encodeTdxL2EnterGuestState(sample()), 512)
    expect(decodeTdxL2EnterGuestState(runPage.subarray(512, 672))).toEqual(sample())
  })

  it('ignores the reserved tail on decode', () => {
    const bytes = encodeTdxL2EnterGuestState(sample())
    bytes.fill(0xaa, 154)
    expect(decodeTdxL2EnterGuestState(bytes)).toEqual(sample())
  })

  it.each([0, 159, 161, 256])('rejects %i bytes with E_DECODE_LENGTH', (length) => {
    expect(() => decodeTdxL2EnterGuestState(new Uint8Array(length))).toThrow(
      expect.objectContaining({ code: 'E_DECODE_LENGTH', field: 'TdxL2EnterGuestState' })
    )
  })

  it('rejects bad values on encode', () => {
    const s = sample()
    expect(() => encodeTdxL2EnterGuestState({ ...s, gps: s.gps.slice(1) })).toThrow(
      code('E_FIELD_RANGE')
    )
    expect(() => encodeTdxL2EnterGuestState({ ...s, rvi: 256 })).toThrow(code('E_FIELD_RANGE'))
    expect(() => encodeTdxL2EnterGuestState({ ...s, svi: -1 })).toThrow(code('E_FIELD_RANGE'))
    expect(() => encodeTdxL2EnterGuestState({ ...s, rip: -1n })).toThrow(code('E_FIELD_RANGE'))
    expect(() => encodeTdxL2EnterGuestState({ ...s, rflags: 1n << 64n })).toThrow(
      code('E_FIELD_RANGE')
    )
  })

  it('round-trips', () => {
    const u64 = fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn })
    const state = fc.record({
      gps: fc.array(u64, { minLength: 16, maxLength: 16 }),
      rflags: u64,
      rip: u64,
      ssp: u64,
      rvi: fc.nat({ max: 255 }),
      svi: fc.nat({ max: 255 }),
    })
    fc.assert(
      fc.property(state, (s) => {
        expect(decodeTdxL2EnterGuestState(encodeTdxL2EnterGuestState(s))).toEqual(s)
      })
    )
  })
})
