import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { expectVtlError, toHex, u32, u64, u8 } from './testing/arbitraries.js'
import {
  interceptMessageBytes,
  readVinaStatus,
  readVpVtlControl,
  readVtlEntryReason,
  readVtlReturnRegisters,
  VP_ASSIST_PAGE_SIZE,
  VpAssistPageOffset,
  VtlEntryReason,
  vtlReturnActionsBytes,
  writeVinaStatus,
  writeVpVtlControl,
  writeVtlEntryReason,
  writeVtlReturnRegisters,
} from './vp-assist-page.js'

describe('VP assist page VTL control block', () => {
  it('names the offsets and entry reasons of §7.3', () => {
    expect(VP_ASSIST_PAGE_SIZE).toBe(4096)
    expect(VpAssistPageOffset.entryReason).toBe(8)
    expect(VpAssistPageOffset.vinaStatus).toBe(12)
    expect(VpAssistPageOffset.vtlReturnRegisters).toBe(16)
    expect(VpAssistPageOffset.interceptMessage).toBe(112)
    expect(VpAssistPageOffset.vtlReturnActions).toBe(368)
    expect(VtlEntryReason).toEqual({ Reserved: 0, VtlCall: 1, Interrupt: 2, Intercept: 3 })
  })

  it('writes exactly bytes 8..31 and leaves the rest of the page alone', () => {
    const page = new Uint8Array(4096).fill(0x5a)
    writeVpVtlControl(page, {
      entryReason: VtlEntryReason.VtlCall,
      vinaStatus: 1,
      registers: [0x1122334455667788n, 0x99aabbccddeeff00n],
    })
    // entry_reason u32 @8, vina_status u8 @12, 3 reserved bytes (untouched), registers @16/@24.
    expect(toHex(page.subarray(0, 32))).toBe(
      '5a5a5a5a5a5a5a5a' + '01000000' + '01' + '5a5a5a' + '8877665544332211' + '00ffeeddccbbaa99'
    )
    expect(page.subarray(32).every((b) => b === 0x5a)).toBe(true)
  })

  it('reads each field from its offset', () => {
    const page = new Uint8Array(4096)
    page.set([0x02, 0, 0, 0, 0x07], 8)
    page.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], 16)
    expect(readVtlEntryReason(page)).toBe(VtlEntryReason.Interrupt)
    expect(readVinaStatus(page)).toBe(7)
    expect(readVtlReturnRegisters(page)).toEqual([0x0807060504030201n, 0x100f0e0d0c0b0a09n])
    expect(readVpVtlControl(page)).toEqual({
      entryReason: 2,
      vinaStatus: 7,
      registers: [0x0807060504030201n, 0x100f0e0d0c0b0a09n],
    })
  })

  it('single-field writers touch only their field', () => {
    const page = new Uint8Array(4096)
    writeVtlEntryReason(page, VtlEntryReason.Intercept)
    writeVinaStatus(page, 0xff)
    writeVtlReturnRegisters(page, 1n, 2n)
    expect(toHex(page.subarray(8, 32))).toBe(
      '03000000' + 'ff' + '000000' + '0100000000000000' + '0200000000000000'
    )
  })

  it('exposes the intercept message and return actions as views into the page', () => {
    const page = new Uint8Array(4096)
    interceptMessageBytes(page)[0] = 0x11
    vtlReturnActionsBytes(page)[255] = 0x22
    expect(page[112]).toBe(0x11)
    expect(page[368 + 255]).toBe(0x22)
    expect(interceptMessageBytes(page).byteLength).toBe(256)
  })

  it('refuses a page of the wrong size and out-of-range values', () => {
    expectVtlError(
      () => readVpVtlControl(new Uint8Array(4095)),
      'E_DECODE_LENGTH',
      'HvVpAssistPage'
    )
    expectVtlError(() => readVinaStatus(new Uint8Array(0)), 'E_DECODE_LENGTH', 'HvVpAssistPage')
    const page = new Uint8Array(4096)
    expectVtlError(
      () => {
        writeVinaStatus(page, 256)
      },
      'E_FIELD_RANGE',
      'HvVpAssistPage.vinaStatus'
    )
    expectVtlError(
      () => {
        writeVtlReturnRegisters(page, 0n, 1n << 64n)
      },
      'E_FIELD_RANGE',
      'HvVpAssistPage.registers[1]'
    )
  })

  it('round-trips', () => {
    fc.assert(
      fc.property(u32, u8, u64, u64, (entryReason, vinaStatus, rax, rcx) => {
        const page = new Uint8Array(4096)
        const control = { entryReason, vinaStatus, registers: [rax, rcx] as [bigint, bigint] }
        writeVpVtlControl(page, control)
        expect(readVpVtlControl(page)).toEqual(control)
      })
    )
  })
})
