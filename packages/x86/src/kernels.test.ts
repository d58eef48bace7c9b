import { afterEach, describe, expect, it } from 'vitest'
import { PageAccess, PagePermissionTable } from './cpu/page-permissions.js'
import type { X86Vp } from './cpu/x86-vp.js'
import { runGuest, type VmcallHandler } from './run/run-guest.js'
import { bootVp, CODE_GPA, TEST_MEMORY } from './test/boot.js'
import { buildKernel, cToolchainAvailable } from './test/kernels.js'
import { guestCodeSkip } from './test/skip.js'

const skip = guestCodeSkip()

/** Records every hypercall (control word, input page bytes) and answers with `status`. */
function recordingVmcall(status: bigint, ram: Buffer, calls: unknown[]): VmcallHandler {
  return (exit, context) => {
    const { rcx, rdx, r8 } = context.readGprs()
    calls.push({
      rip: exit.rip,
      control: rcx,
      input: rdx,
      output: r8,
      header: ram.subarray(Number(rdx), Number(rdx) + 24).toString('hex'),
    })
    context.writeGprs({ rax: status | (1n << 32n) }) // one rep completed
    context.skip(exit)
    return {}
  }
}

describe.skipIf(skip)('bundled test kernels (built from source with nasm)', () => {
  const vps: X86Vp[] = []
  const boot = (file: string, permissions?: PagePermissionTable) => {
    const booted = bootVp(
      [{ gpa: CODE_GPA, bytes: buildKernel(file) }],
      permissions === undefined ? {} : { permissions }
    )
    vps.push(booted.vp)
    return booted
  }
  afterEach(() => {
    for (const vp of vps.splice(0)) vp.close()
  })

  it('hello.asm prints over 0xE9 and exits with 0 on 0xF4', () => {
    const { vp } = boot('hello.asm')
    expect(runGuest(vp)).toMatchObject({ console: 'hello from VTL0\n', exitCode: 0, halted: false })
  })

  it('vmcall.asm: the exit carries the control word and the input page; RAX is its status', () => {
    const { vp, ram } = boot('vmcall.asm')
    const calls: unknown[] = []
    const result = runGuest(vp, { onVmcall: recordingVmcall(0x6n, ram, calls) })
    expect(calls).toEqual([
      {
        rip: expect.any(BigInt) as bigint,
        control: 0x1_0000_000cn, // ModifyVtlProtectionMask, rep count 1
        input: 0x200000n,
        output: 0n,
        // partition id SELF, map flags R, target VTL 0, then GPA page 0x300
        header: 'ffffffffffffffff' + '01000000' + '00000000' + '0003000000000000',
      },
    ])
    expect(result.exitCode).toBe(6)
  })

  it('ept.asm: the forbidden write exits with GPA 0x200ff8, write, RIP 0x100040', () => {
    const permissions = new PagePermissionTable(TEST_MEMORY / 4096)
    permissions.set(0, 0x200, 1, PageAccess.READ | PageAccess.EXECUTE)
    const { vp } = boot('ept.asm', permissions)
    const result = runGuest(vp)
    expect(result.exit).toEqual({
      kind: 'ept-violation',
      rip: 0x100040n,
      gpa: 0x200ff8n,
      gla: 0x200ff8n,
      access: 'write',
      pageAccess: PageAccess.READ | PageAccess.EXECUTE,
      length: 8,
    })
    // The read before it was allowed; after VTL1 lifts the protection the write completes.
    permissions.set(0, 0x200, 1, PageAccess.ALL)
    expect(runGuest(vp)).toMatchObject({ exitCode: 0 })
  })

  it('triple.asm: #PF without a present gate escalates to a triple fault', () => {
    const { vp } = boot('triple.asm')
    expect(runGuest(vp)).toMatchObject({ error: 'TripleFault', instructions: 2 })
  })

  it('spin.asm: stops at exactly maxInstructions, and the next run goes on from there', () => {
    const { vp } = boot('spin.asm')
    expect(runGuest(vp, { maxInstructions: 10_001 })).toMatchObject({
      error: 'InstructionLimit',
      instructions: 10_001,
    })
    expect(vp.context(0).readGprs().rax).toBe(5_000n)
    expect(runGuest(vp, { maxInstructions: 2 })).toMatchObject({ instructions: 2 })
    expect(vp.context(0).readGprs().rax).toBe(5_001n)
  })

  it('two runs of a kernel are identical (console, exit code, instruction count)', () => {
    const runs = [boot('hello.asm'), boot('hello.asm')].map(({ vp }) => runGuest(vp))
    expect(runs[0]).toEqual(runs[1])
  })

  it.skipIf(!cToolchainAvailable())(
    'hello.c through the SDK Makefile: printf, a hypercall, exit code',
    () => {
      const { vp, ram } = boot('hello.c')
      const calls: { input: bigint; header: string }[] = []
      const result = runGuest(vp, {
        onVmcall: recordingVmcall(0n, ram, calls),
      })
      const input = calls[0]?.input ?? 0n
      expect(calls).toMatchObject([
        {
          control: 0x1_0000_000cn,
          header: 'ffffffffffffffff' + '01000000' + '00000000' + '0003000000000000',
        },
      ])
      expect(result).toMatchObject({
        exitCode: 7,
        console: `hello from C: status 0, 1 reps, input at 0x${input.toString(16).padStart(16, '0')}\n`,
      })
    }
  )
})
