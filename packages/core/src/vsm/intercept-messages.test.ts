import { describe, expect, it } from 'vitest'
import { HvRegisterName } from '../hv/register-name.js'
import { toHex } from '../hv/testing/arbitraries.js'
import {
  encodeIoPortInterceptMessage,
  encodeMsrInterceptMessage,
  encodeRegisterInterceptMessage,
  type InterceptHeaderFields,
} from './intercept-messages.js'

const flatCode = { base: 0n, limit: 0xffff_ffff, selector: 0x08, attributes: 0xa09b }
const flatData = { base: 0n, limit: 0xffff_ffff, selector: 0x10, attributes: 0xc093 }

const header: InterceptHeaderFields = {
  vpIndex: 1,
  instructionLength: 3,
  accessType: 1,
  cpl: 0,
  vtl: 0,
  eferLma: true,
  cs: flatCode,
  rip: 0x10_1000n,
  rflags: 0x202n,
}

/** HvX64InterceptMessageHeader of `header` (40 bytes): vp 1, len 3, WRITE, LMA, CS, RIP, RFLAGS. */
const HEADER_HEX =
  '01000000' +
  '03' +
  '01' +
  '1000' +
  '0000000000000000' +
  'ffffffff' +
  '0800' +
  '9ba0' +
  '0010100000000000' +
  '0202000000000000'

const pad = (hex: string): string => hex + '00'.repeat(256 - hex.length / 2)

// vsm-on-tdx.md §13.16, hvdef: the three instruction-intercept messages, byte for byte.
describe('instruction intercept messages (§13.16)', () => {
  it('register intercept 0x80010006: Cr0 and the value written, payload 64 bytes', () => {
    const bytes = encodeRegisterInterceptMessage(header, HvRegisterName.Cr0, 0x8001_0033n)
    expect(toHex(bytes)).toBe(
      pad(
        '06000180' +
          '40' +
          '00' +
          '0000' +
          '0000000000000000' +
          HEADER_HEX +
          '00' +
          '00' +
          '0000' +
          '00000400' +
          '3300018000000000' +
          '0000000000000000'
      )
    )
  })

  it('MSR intercept 0x80010001: msr, reserved, RDX, RAX, payload 64 bytes', () => {
    const bytes = encodeMsrInterceptMessage(
      { ...header, instructionLength: 2 },
      0xc000_0082,
      0x8765_4321n,
      0xffff_f800n
    )
    expect(toHex(bytes)).toBe(
      pad(
        '01000180' +
          '40' +
          '00' +
          '0000' +
          '0000000000000000' +
          HEADER_HEX.replace(/^0100000003/, '0100000002') +
          '820000c0' +
          '00000000' +
          '00f8ffff00000000' +
          '2143658700000000'
      )
    )
  })

  it('I/O port intercept 0x80010000: port, access info, RAX, no instruction bytes, DS/ES, RCX/RSI/RDI, payload 128 bytes', () => {
    const bytes = encodeIoPortInterceptMessage(
      { ...header, instructionLength: 1, accessType: 0, cpl: 3, vtl: 0, eferLma: false },
      {
        port: 0x64,
        accessSize: 1,
        stringOp: false,
        repPrefix: true,
        rax: 0xabn,
        ds: flatData,
        es: flatData,
        rcx: 0x10n,
        rsi: 0x20n,
        rdi: 0x30n,
      }
    )
    expect(toHex(bytes)).toBe(
      pad(
        '00000180' +
          '80' +
          '00' +
          '0000' +
          '0000000000000000' +
          '01000000' +
          '01' +
          '00' +
          '0300' +
          '0000000000000000' +
          'ffffffff' +
          '0800' +
          '9ba0' +
          '0010100000000000' +
          '0202000000000000' +
          '6400' +
          '11' +
          '00' +
          '00000000' +
          'ab00000000000000' +
          '00'.repeat(16) +
          '0000000000000000' +
          'ffffffff' +
          '1000' +
          '93c0' +
          '0000000000000000' +
          'ffffffff' +
          '1000' +
          '93c0' +
          '1000000000000000' +
          '2000000000000000' +
          '3000000000000000'
      )
    )
  })

  it('the VTL goes into execution-state bits 10:7, CPL into 1:0', () => {
    const bytes = encodeMsrInterceptMessage(
      { ...header, vtl: 1, cpl: 2, eferLma: false },
      0,
      0n,
      0n
    )
    expect(new DataView(bytes.buffer).getUint16(16 + 6, true)).toBe((1 << 7) | 2)
  })
})
