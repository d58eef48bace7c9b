import { describe, expect, it } from 'vitest'
import {
  decodeInitialVpContextX64,
  encodeInitialVpContextX64,
  longModeInitialVpContextX64,
} from '../hv/initial-vp-context.js'
import {
  SHARED_CONTEXTS_KEPT,
  sharedContextRegisters,
  sharedInitialContext,
} from './shared-contexts.js'

const bytesOf = (rsp: bigint): Uint8Array =>
  encodeInitialVpContextX64(longModeInitialVpContextX64({ rsp }))

describe('shared initial contexts (§4.4)', () => {
  it('decodes as the codec does, frozen to the segments, one object per distinct 224 bytes', () => {
    const bytes = bytesOf(0x8000n)
    const context = sharedInitialContext(bytes)
    expect(context).toEqual(decodeInitialVpContextX64(bytes))
    expect(Object.isFrozen(context)).toBe(true)
    expect(Object.isFrozen(context.cs)).toBe(true)
    expect(Object.isFrozen(context.gdtr)).toBe(true)
    expect(sharedInitialContext(bytes.slice())).toBe(context)
    // Bytes at an offset that is not a multiple of 4 are found too.
    const unaligned = new Uint8Array(225)
    unaligned.set(bytes, 1)
    expect(sharedInitialContext(unaligned.subarray(1))).toBe(context)
    expect(sharedInitialContext(bytesOf(0x9000n))).not.toBe(context)
  })

  it('keeps its own copy of the bytes: changing the caller buffer afterwards changes nothing', () => {
    const bytes = bytesOf(0x7000n)
    const context = sharedInitialContext(bytes)
    bytes[8] = 0x10
    expect(context.rsp).toBe(0x7000n)
    expect(sharedInitialContext(bytes).rsp).toBe(0x7010n)
  })

  it('gives the register write of §4.4 with CR0.ET forced (§13.11) and MSR_CR_PAT as pat', () => {
    const bytes = encodeInitialVpContextX64(
      longModeInitialVpContextX64({ cr0: 0x8000_0021n, msrCrPat: 0x0106n })
    )
    const write = sharedContextRegisters(bytes)
    const context = decodeInitialVpContextX64(bytes)
    expect(write).toEqual({
      rip: context.rip,
      rsp: context.rsp,
      rflags: context.rflags,
      cs: context.cs,
      ds: context.ds,
      es: context.es,
      fs: context.fs,
      gs: context.gs,
      ss: context.ss,
      tr: context.tr,
      ldtr: context.ldtr,
      idtr: context.idtr,
      gdtr: context.gdtr,
      efer: context.efer,
      cr0: 0x8000_0031n,
      cr3: context.cr3,
      cr4: context.cr4,
      pat: 0x0106n,
    })
    expect(Object.isFrozen(write)).toBe(true)
    expect(sharedContextRegisters(bytes.slice())).toBe(write)
  })

  it(`keeps the last ${SHARED_CONTEXTS_KEPT} distinct contexts, the least recent dropped`, () => {
    const first = sharedInitialContext(bytesOf(0x1_0000n))
    for (let n = 1; n < SHARED_CONTEXTS_KEPT; n++)
      sharedInitialContext(bytesOf(0x1_0000n + BigInt(n)))
    expect(sharedInitialContext(bytesOf(0x1_0000n))).toBe(first)
    for (let n = 1; n <= SHARED_CONTEXTS_KEPT; n++)
      sharedInitialContext(bytesOf(0x2_0000n + BigInt(n)))
    const again = sharedInitialContext(bytesOf(0x1_0000n))
    expect(again).not.toBe(first)
    expect(again).toEqual(first)
  })

  it('refuses a buffer that is not 224 bytes as the codec does', () => {
    expect(() => sharedInitialContext(new Uint8Array(223))).toThrow(
      expect.objectContaining({ code: 'E_DECODE_LENGTH' })
    )
  })
})
