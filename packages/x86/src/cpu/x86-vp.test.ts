import { afterEach, describe, expect, it } from 'vitest'
import { X86Reg } from '../unicorn/constants.js'
import { applyStartState } from '../loader/start-state.js'
import { runGuest } from '../run/run-guest.js'
import { bootVp, CODE_GPA } from '../test/boot.js'
import { nasm } from '../test/nasm.js'
import { guestCodeSkip } from '../test/skip.js'
import {
  readPrivateState,
  readSharedState,
  writePrivateState,
  writeSharedState,
} from './register-state.js'
import type { X86Vp } from './x86-vp.js'

const skip = guestCodeSkip()

const VTL1_GPA = 0x20_0000n
const HEAD = '%include "vtl-guest.asm"\nbits 64\n'

describe.skipIf(skip)('X86Vp: VTL register banking (§6.4)', () => {
  const vps: X86Vp[] = []
  afterEach(() => {
    for (const vp of vps.splice(0)) vp.close()
  })

  it('a VTL switch carries the shared GPRs and keeps RIP, RSP and RFLAGS per VTL', () => {
    const vtl0 = nasm(`${HEAD}org 0x100000
      mov rsp, 0x70000
      mov rbx, 0x1111
      mov r15, 0xf00d
      VTL_CALL
      cmp rsp, 0x70000            ; VTL0's RSP is its own
      jne bad
      mov eax, ebx
      out 0xf4, eax               ; exit code: RBX as VTL1 left it
    bad:
      VTL_EXIT 0xbad`)
    const vtl1 = nasm(`${HEAD}org 0x200000
      add rbx, 1                  ; shared: VTL0's value arrives
      cmp r15, 0xf00d
      jne fail
      mov rsp, 0x12345            ; private: never seen by VTL0
      sti                         ; RFLAGS is private too
      VTL_RETURN 1
    fail:
      VTL_EXIT 0xbad`)
    const { vp, layout } = bootVp([
      { gpa: CODE_GPA, bytes: vtl0 },
      { gpa: VTL1_GPA, bytes: vtl1 },
    ])
    vps.push(vp)
    applyStartState(vp.context(1), layout, { rip: VTL1_GPA, rsp: 0x6_0000n })
    const calls: string[] = []
    const result = runGuest(vp, {
      onVmcall: (exit, context) => {
        const code = context.readGprs().rcx
        context.skip(exit)
        calls.push(`${context.vtl}:${code.toString(16)}`)
        return { next: code === 0x11n ? 1 : 0 }
      },
    })
    expect(calls).toEqual(['0:11', '1:12'])
    expect(result).toMatchObject({ exitCode: 0x1112, activeVtl: 0 })
    expect(vp.context(1).engine.readReg(X86Reg.RSP)).toBe(0x12345n)
    expect(vp.context(0).engine.readReg(X86Reg.RFLAGS) & 0x200n).toBe(0n)
    expect(vp.context(1).engine.readReg(X86Reg.RFLAGS) & 0x200n).toBe(0x200n)
  })

  it('reads and writes the shared and private state under the core register bank names', () => {
    const { vp } = bootVp([{ gpa: CODE_GPA, bytes: Buffer.from([0xf4]) }])
    vps.push(vp)
    const c = vp.context(0)
    writeSharedState(c, { rax: 1n, r15: 2n, cr2: 0xdead000n, dr0: 0x1000n })
    writePrivateState(c, { rip: 0x10_0010n, rsp: 0x7_0000n })
    expect(readSharedState(c)).toMatchObject({ rax: 1n, r15: 2n, cr2: 0xdead000n, dr0: 0x1000n })
    expect(readPrivateState(c)).toMatchObject({
      rip: 0x10_0010n,
      rsp: 0x7_0000n,
      rflags: 0x2n,
      cr0: 0x8001_0033n,
      cr4: 0x6a0n,
      efer: 0xd01n,
    })
    // VTL1 sees the shared half only once VTL0's state is carried over by a switch.
    vp.switchTo(1)
    expect(readSharedState(vp.context(1))).toMatchObject({ rax: 1n, r15: 2n, cr2: 0xdead000n })
    expect(readPrivateState(vp.context(1)).rip).not.toBe(0x10_0010n)
  })

  it('refuses a VTL without an execution context', () => {
    const { vp } = bootVp([{ gpa: CODE_GPA, bytes: Buffer.from([0xf4]) }])
    vps.push(vp)
    expect(() => {
      vp.switchTo(2 as 0)
    }).toThrow(/VTL 2/)
  })
})
