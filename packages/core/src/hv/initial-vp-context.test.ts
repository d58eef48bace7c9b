import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeInitialVpContextX64,
  encodeInitialVpContextX64,
  INITIAL_VP_CONTEXT_X64_SIZE,
  InitialVpContextX64Offset,
  readInitialVpContextX64,
  writeInitialVpContextX64,
  zeroInitialVpContextX64,
} from './initial-vp-context.js'
import {
  contextArb,
  expectVtlError,
  SEQUENTIAL_CONTEXT,
  SEQUENTIAL_CONTEXT_BYTES,
  toHex,
} from './testing/arbitraries.js'

describe('InitialVpContextX64 (224 B)', () => {
  it('has the size and offsets of §1.4', () => {
    expect(INITIAL_VP_CONTEXT_X64_SIZE).toBe(224)
    expect(InitialVpContextX64Offset).toEqual({
      rip: 0,
      rsp: 8,
      rflags: 16,
      cs: 24,
      ds: 40,
      es: 56,
      fs: 72,
      gs: 88,
      ss: 104,
      tr: 120,
      ldtr: 136,
      idtr: 152,
      gdtr: 168,
      efer: 184,
      cr0: 192,
      cr3: 200,
      cr4: 208,
      msrCrPat: 216,
    })
  })

  it('encodes a context whose every field is distinct to the hand-written bytes', () => {
    expect(toHex(encodeInitialVpContextX64(SEQUENTIAL_CONTEXT))).toBe(
      toHex(SEQUENTIAL_CONTEXT_BYTES)
    )
  })

  it('decodes the hand-written bytes field by field', () => {
    expect(decodeInitialVpContextX64(SEQUENTIAL_CONTEXT_BYTES)).toEqual(SEQUENTIAL_CONTEXT)
  })

  it('ignores table-register padding when decoding', () => {
    const dirty = SEQUENTIAL_CONTEXT_BYTES.slice()
    for (let i = 152; i < 158; i++) dirty[i] = 0x99 + i - 152
    for (let i = 168; i < 174; i++) dirty[i] = 0x55
    expect(decodeInitialVpContextX64(dirty)).toEqual(SEQUENTIAL_CONTEXT)
  })

  it('writes at an offset of a shared buffer without touching the bytes around it', () => {
    const buffer = new Uint8Array(16 + 224 + 8).fill(0xcc)
    const view = new DataView(buffer.buffer)
    writeInitialVpContextX64(view, 16, SEQUENTIAL_CONTEXT)
    expect(toHex(buffer.subarray(0, 16))).toBe('cc'.repeat(16))
    expect(toHex(buffer.subarray(240))).toBe('cc'.repeat(8))
    expect(readInitialVpContextX64(view, 16)).toEqual(SEQUENTIAL_CONTEXT)
  })

  it('zero context encodes to 224 zero bytes', () => {
    expect(encodeInitialVpContextX64(zeroInitialVpContextX64())).toEqual(new Uint8Array(224))
  })

  it.each([0, 223, 225, 240])('refuses %i bytes with E_DECODE_LENGTH', (size) => {
    expectVtlError(
      () => decodeInitialVpContextX64(new Uint8Array(size)),
      'E_DECODE_LENGTH',
      'InitialVpContextX64'
    )
  })

  it('refuses a view without room (no RangeError escapes)', () => {
    expectVtlError(
      () => readInitialVpContextX64(new DataView(new ArrayBuffer(224)), 1),
      'E_DECODE_LENGTH'
    )
    expectVtlError(() => {
      writeInitialVpContextX64(new DataView(new ArrayBuffer(100)), 0, SEQUENTIAL_CONTEXT)
    }, 'E_DECODE_LENGTH')
  })

  it.each([
    ['rip', { rip: 1n << 64n }],
    ['msrCrPat', { msrCrPat: -1n }],
    ['cs.limit', { cs: { ...SEQUENTIAL_CONTEXT.cs, limit: 2 ** 32 } }],
    ['ldtr.selector', { ldtr: { ...SEQUENTIAL_CONTEXT.ldtr, selector: 0x1_0000 } }],
    ['gdtr.limit', { gdtr: { limit: 0x1_0000, base: 0n } }],
    ['idtr.base', { idtr: { limit: 0, base: 1n << 64n } }],
    ['ss', { ss: undefined }],
  ])('refuses a bad %s, naming it, and leaves the buffer untouched', (field, patch) => {
    const buffer = new Uint8Array(224)
    const bad = { ...SEQUENTIAL_CONTEXT, ...patch } as typeof SEQUENTIAL_CONTEXT
    expectVtlError(
      () => {
        writeInitialVpContextX64(new DataView(buffer.buffer), 0, bad)
      },
      'E_FIELD_RANGE',
      `InitialVpContextX64.${field}`
    )
    expect(buffer).toEqual(new Uint8Array(224))
  })

  it('round-trips any context', () => {
    fc.assert(
      fc.property(contextArb, (ctx) => {
        expect(decodeInitialVpContextX64(encodeInitialVpContextX64(ctx))).toEqual(ctx)
      })
    )
  })
})
