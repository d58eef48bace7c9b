import { describe, expect, it } from 'vitest'
import { thrown, u32, u64 } from '../test/fake-syscalls.js'
import {
  FXSAVE_SIZE,
  RunPage,
  RunPageOffset,
  TDX_VP_CONTEXT_SIZE,
  decodeTdxVpContext,
  encodeTdxVpContext,
  type TdxVpContext,
} from './run-page.js'

function context(): TdxVpContext {
  return {
    exitInfo: {
      rax: 1n,
      rcx: 2n,
      rdx: 3n,
      rsi: 4n,
      rdi: 5n,
      r8: 6n,
      r9: 7n,
      r10: 8n,
      r11: 9n,
      r12: 10n,
      r13: 11n,
    },
    vpState: {
      msrKernelGsBase: 0x10n,
      msrStar: 0x11n,
      msrLstar: 0x12n,
      msrSfmask: 0x13n,
      msrXss: 0x14n,
      cr2: 0x15n,
      msrTscAux: 0x16n,
      flags: 1n,
    },
    entryRcx: 1n << 52n,
    l2EnterGuestState: {
      gps: Array.from({ length: 16 }, (_, i) => BigInt(0x100 + i)),
      rflags: 0x202n,
      rip: 0xfff0n,
      ssp: 0x99n,
      rvi: 0x31,
      svi: 0x20,
    },
    l2TscDeadline: { deadline: 0x1234n, update: 1 },
    fxState: new Uint8Array(FXSAVE_SIZE).fill(0x5a),
  }
}

describe('run page (mshv_vtl_run, TDX context)', () => {
  it('puts the TDX context at 272 with the spec’s inner offsets (abi.md §1.7)', () => {
    const page = new Uint8Array(4096)
    page.set(encodeTdxVpContext(context()), RunPageOffset.context)
    expect(u64(page, 272)).toBe(1n) // exit_info.rax
    expect(u64(page, 272 + 80)).toBe(11n) // exit_info.r13
    expect(u64(page, 408)).toBe(0x10n) // vp_state.msr_kernel_gs_base
    expect(u64(page, 408 + 56)).toBe(1n) // vp_state.flags
    expect(u64(page, 504)).toBe(1n << 52n) // entry_rcx
    expect(u64(page, 512)).toBe(0x100n) // l2_enter_guest_state.gps[RAX]
    expect(u64(page, 512 + 128)).toBe(0x202n) // rflags
    expect(u64(page, 512 + 136)).toBe(0xfff0n) // rip
    expect(page[512 + 152]).toBe(0x31) // rvi
    expect(u64(page, 672)).toBe(0x1234n) // l2_tsc_deadline.deadline
    expect(page[680]).toBe(1) // update
    expect(page[768]).toBe(0x5a) // fxsave
    expect(page[768 + 511]).toBe(0x5a)
    expect(page[1280]).toBe(0) // pad4
    expect(decodeTdxVpContext(page.subarray(272, 272 + TDX_VP_CONTEXT_SIZE))).toEqual(context())
  })

  it('reads and writes the live page: cancel, entry RCX, guest state, deadline', () => {
    const bytes = new Uint8Array(4096)
    const page = new RunPage(bytes)
    page.cancel = 1
    expect(u32(bytes, 0)).toBe(1)
    page.entryRcx = 2n << 52n
    expect(u64(bytes, 504)).toBe(2n << 52n)
    page.setL2EnterGuestState(context().l2EnterGuestState)
    expect(page.l2EnterGuestState()).toEqual(context().l2EnterGuestState)
    page.setTscDeadline(0x777n)
    expect(page.tscDeadline()).toEqual({ deadline: 0x777n, update: 1 })
    page.setVpState({ cr2: 0xdeadn })
    expect(u64(bytes, 408 + 40)).toBe(0xdeadn)
    bytes[15] = 0x21
    bytes[8] = 1
    expect(page.header()).toMatchObject({ cancel: 1, flags: 1, enterMode: 0x21 })
    expect(page.exitMessage().byteLength).toBe(256)
    expect(page.fxState().byteOffset).toBe(768)
  })

  it('refuses a page or context of the wrong size', () => {
    expect(thrown(() => new RunPage(new Uint8Array(4095)))).toMatchObject({
      code: 'E_DECODE_LENGTH',
    })
    expect(thrown(() => decodeTdxVpContext(new Uint8Array(1023)))).toMatchObject({
      code: 'E_DECODE_LENGTH',
    })
    expect(
      thrown(() => encodeTdxVpContext({ ...context(), fxState: new Uint8Array(10) }))
    ).toMatchObject({
      code: 'E_DECODE_LENGTH',
    })
  })
})
