import { afterEach, describe, expect, it } from 'vitest'
import { X86Reg } from '../unicorn/constants.js'
import { bootVp, CODE_GPA, TEST_MEMORY } from '../test/boot.js'
import { nasm } from '../test/nasm.js'
import { guestCodeSkip } from '../test/skip.js'
import { runGuest } from '../run/run-guest.js'
import { PageAccess, PagePermissionTable } from './page-permissions.js'
import type { X86Vp } from './x86-vp.js'

const skip = guestCodeSkip()

const HEAD = '%include "vtl-guest.asm"\nbits 64\norg 0x100000\n'

/** The GPA of `label` in an assembled kernel: nasm's map would do, a marker is simpler. */
function labelGpa(binary: Buffer, marker: string): bigint {
  const at = binary.indexOf(Buffer.from(marker, 'hex'))
  if (at < 0) throw new Error(`marker ${marker} not found`)
  return CODE_GPA + BigInt(at)
}

describe.skipIf(skip)('VtlContext: real x86-64 code on Unicorn', () => {
  const vps: X86Vp[] = []
  const boot = (source: string, permissions?: PagePermissionTable) => {
    const binary = nasm(HEAD + source)
    const booted = bootVp(
      [{ gpa: CODE_GPA, bytes: binary }],
      permissions === undefined ? {} : { permissions }
    )
    vps.push(booted.vp)
    return { ...booted, binary }
  }
  afterEach(() => {
    for (const vp of vps.splice(0)) vp.close()
  })

  it('starts in the contract state: long mode, paging over the loader tables, flat segments', () => {
    const { vp, layout } = boot('hlt')
    const c = vp.context(0)
    const [cr0, cr3, cr4, cs, ds, ss, rflags] = c.engine.readRegs([
      X86Reg.CR0,
      X86Reg.CR3,
      X86Reg.CR4,
      X86Reg.CS,
      X86Reg.DS,
      X86Reg.SS,
      X86Reg.RFLAGS,
    ])
    expect({ cr0, cr3, cr4, cs, ds, ss, rflags }).toEqual({
      cr0: 0x8001_0033n,
      cr3: BigInt(TEST_MEMORY - 0x10_0000 + 0x1000),
      cr4: 0x6a0n,
      cs: 0x08n,
      ds: 0x10n,
      ss: 0x10n,
      rflags: 0x2n,
    })
    expect(c.readMsr(0xc000_0080)).toBe(0xd01n)
    expect(c.engine.readTable(X86Reg.GDTR)).toMatchObject({
      base: layout.gdtBase,
      limit: 23,
    })
    expect(layout.gdtBase).toBe(BigInt(TEST_MEMORY - 0x10_0000))
  })

  it('prints over port 0xE9 and ends with the 32-bit exit code on 0xF4', () => {
    const { vp } = boot(`
      VTL_PUTS msg
      VTL_EXIT 42
      msg: db "V0 OK", 0`)
    const result = runGuest(vp, { maxInstructions: 10_000 })
    expect(result).toMatchObject({ console: 'V0 OK', exitCode: 42, halted: false, activeVtl: 0 })
    // lea + 5 × (lodsb, test, jz, out, jmp) + lodsb, test, jz + mov + out
    expect(result.instructions).toBe(1 + 5 * 5 + 3 + 2)
    expect(result.error).toBeUndefined()
  })

  it('exits on VMCALL at its RIP with the TLFS registers; the handler completes it', () => {
    const { vp, ram, binary } = boot(`
      mov dword [0x200000], 0x12345678
      HV_HYPERCALL HvCallModifyVtlProtectionMask | HV_REP_COUNT(1), 0x200000, 0
      mov rbx, rax
      VTL_EXIT ebx`)
    const vmcallGpa = labelGpa(binary, '0f01c1')
    const seen: unknown[] = []
    const result = runGuest(vp, {
      onVmcall: (exit, context) => {
        const regs = context.readGprs()
        seen.push({
          rip: exit.rip,
          length: exit.length,
          control: regs.rcx,
          input: regs.rdx,
          output: regs.r8,
          page: ram.readUInt32LE(Number(regs.rdx)),
        })
        context.writeGprs({ rax: 0x6n }) // HV_STATUS_ACCESS_DENIED
        context.skip(exit)
        return {}
      },
    })
    expect(seen).toEqual([
      {
        rip: vmcallGpa,
        length: 3,
        control: 0x1_0000_000cn,
        input: 0x200000n,
        output: 0n,
        page: 0x12345678,
      },
    ])
    expect(result.exitCode).toBe(6)
  })

  it.each([
    ['write', 'mov qword [0x200123], rax', PageAccess.READ | PageAccess.EXECUTE, 0x200123n],
    ['read', 'mov rax, [0x200ff8]', PageAccess.WRITE, 0x200ff8n],
  ] as const)(
    'an %s VTL0 may not make is an EPT violation with the exact GPA and RIP',
    (access, instruction, allowed, gpa) => {
      const permissions = new PagePermissionTable(TEST_MEMORY / 4096)
      permissions.set(0, 0x200, 1, allowed)
      const { vp, binary } = boot(
        `
        nop
        marker: ${instruction}
        VTL_EXIT 0`,
        permissions
      )
      const rip = CODE_GPA + 1n
      expect(binary.length).toBeGreaterThan(1)
      const result = runGuest(vp)
      expect(result.exit).toEqual({
        kind: 'ept-violation',
        rip,
        gpa,
        gla: gpa,
        access,
        pageAccess: allowed,
        length: 8,
      })
      expect(result.instructions).toBe(1)
    }
  )

  it('an instruction fetch from a page without execute is an EPT violation at the target', () => {
    const permissions = new PagePermissionTable(TEST_MEMORY / 4096)
    permissions.set(0, 0x300, 1, PageAccess.READ | PageAccess.WRITE)
    const { vp, ram } = boot(
      `
      mov rax, 0x300010
      jmp rax`,
      permissions
    )
    ram[0x300010] = 0xf4
    const result = runGuest(vp)
    expect(result.exit).toEqual({
      kind: 'ept-violation',
      rip: 0x300010n,
      gpa: 0x300010n,
      gla: 0x300010n,
      access: 'execute',
      pageAccess: PageAccess.READ | PageAccess.WRITE,
      length: 0,
    })
  })

  it('applies a permission change at the next entry, and VTL1 keeps its own permissions', () => {
    const permissions = new PagePermissionTable(TEST_MEMORY / 4096)
    const { vp } = boot(
      `
      mov qword [0x200000], 1
      VTL_EXIT 1`,
      permissions
    )
    permissions.set(0, 0x200, 1, PageAccess.READ)
    permissions.set(1, 0x200, 1, PageAccess.ALL)
    expect(runGuest(vp).exit).toMatchObject({ kind: 'ept-violation', gpa: 0x200000n })
    permissions.set(0, 0x200, 1, PageAccess.ALL)
    expect(runGuest(vp)).toMatchObject({ exitCode: 1 })
  })

  /** Copies the loader's first GiB of page tables to 3 MiB and switches CR3 to the copy. */
  const cr3Switch = (pd1: string) => `
      mov rax, cr3
      mov rax, [rax]              ; PML4[0] → the loader's PDPT
      and rax, ~0xfff
      mov rax, [rax]              ; PDPT[0] → its first PD
      and rax, ~0xfff
      mov rsi, rax
      mov rdi, 0x302000
      mov ecx, 512
      rep movsq
      mov qword [0x302008], ${pd1}  ; PD[1]: VA 2..4 MiB
      mov qword [0x301000], 0x302003
      mov qword [0x300000], 0x301003
      mov rax, 0x300000
      mov cr3, rax
      mov qword [0x200010], 0x77
      VTL_EXIT 0`

  it('a MOV to CR3 runs natively and the next accesses go through the new tables', () => {
    const kept = boot(cr3Switch('0x200083'))
    expect(runGuest(kept.vp)).toMatchObject({ exitCode: 0 })
    expect(kept.ram[0x200010]).toBe(0x77)
    // The copy without PD[1]: the write faults (#PF, no IDT: triple fault) and changes nothing.
    const dropped = boot(cr3Switch('0'))
    expect(runGuest(dropped.vp)).toMatchObject({ error: 'TripleFault' })
    expect(dropped.ram[0x200010]).toBe(0)
  })

  it('a guest page fault is delivered through the IDT with CR2 and the error code', () => {
    const { vp } = boot(`
      lidt [idtr]
      mov rax, [0x40000000]       ; beyond the identity map: not present
      VTL_EXIT 0xbad
    pf_handler:
      pop rbx                     ; error code
      mov rax, cr2
      VTL_PUTHEX rax
      VTL_PUTC ' '
      VTL_PUTHEX rbx
      VTL_EXIT 14
    align 16
    idt:
      times 14 dq 0, 0
      dw (pf_handler - $$ + 0x100000) & 0xffff, 0x08
      db 0, 0x8e
      dw ((pf_handler - $$ + 0x100000) >> 16) & 0xffff
      dd 0, 0
    idt_end:
    idtr:
      dw idt_end - idt - 1
      dq idt`)
    const result = runGuest(vp)
    expect(result).toMatchObject({ exitCode: 14, console: '0000000040000000 0000000000000000' })
  })

  it('software interrupts and #UD go through 64-bit gates and IRETQ comes back', () => {
    const { vp } = boot(`
      lidt [idtr]
      int 0x21
      ud2
      VTL_EXIT 0xbad
    int_handler:
      VTL_PUTC 'I'
      iretq
    ud_handler:
      VTL_PUTC 'U'
      add qword [rsp], 2          ; past the ud2
      iretq
    after:
    %macro GATE 1
      dw (%1 - $$ + 0x100000) & 0xffff, 0x08
      db 0, 0x8e
      dw ((%1 - $$ + 0x100000) >> 16) & 0xffff
      dd 0, 0
    %endmacro
    align 16
    idt:
      times 6 dq 0, 0
      GATE ud_handler
      times 0x21 - 7 dq 0, 0
      GATE int_handler
    idt_end:
    idtr:
      dw idt_end - idt - 1
      dq idt`)
    // After the ud2 handler returns, execution reaches VTL_EXIT 0xbad: the console tells the order.
    const result = runGuest(vp)
    expect(result).toMatchObject({ console: 'IU', exitCode: 0xbad })
  })

  it('an injected interrupt is delivered through the IDT at the next entry (IF cleared)', () => {
    const { vp } = boot(`
      lidt [idtr]
      sti
      hlt
      VTL_EXIT 0xbad
    timer:
      VTL_PUTC 'T'
      pushfq
      pop rbx
      and ebx, 0x200              ; IF inside an interrupt gate's handler
      VTL_EXIT ebx
    align 16
    idt:
      times 0x30 dq 0, 0
      dw (timer - $$ + 0x100000) & 0xffff, 0x08
      db 0, 0x8e
      dw ((timer - $$ + 0x100000) >> 16) & 0xffff
      dd 0, 0
    idt_end:
    idtr:
      dw idt_end - idt - 1
      dq idt`)
    const c = vp.context(0)
    const { exit } = vp.enter(0, 100)
    expect(exit).toMatchObject({ kind: 'hlt', interruptsEnabled: true })
    c.skip(exit as Extract<typeof exit, { kind: 'hlt' }>)
    c.inject({ vector: 0x30 })
    expect(c.pendingEvent).toEqual({ vector: 0x30 })
    expect(runGuest(vp)).toMatchObject({ console: 'T', exitCode: 0 })
    expect(c.pendingEvent).toBeUndefined()
    expect(() => {
      c.inject({ vector: 256 })
    }).toThrow(expect.objectContaining({ code: 'E_FIELD_RANGE' }))
  })

  it.each([
    ['#UD', 'ud2', 0],
    ['#DE', 'xor ecx, ecx\n div rcx', 1],
    ['#GP (bad selector)', 'mov ax, 0x33\n mov ds, ax', 1],
    ['#GP (non-canonical)', 'mov rax, 0x8000000000000000\n mov rax, [rax]', 1],
    ['#GP (IRETQ to a bad frame)', 'push 0\n push 0\n push 0\n push 0x77\n push 0\n iretq', 5],
  ])('%s without an IDT is a triple fault', (_name, body, instructions) => {
    const { vp } = boot(body)
    expect(runGuest(vp)).toMatchObject({ error: 'TripleFault', instructions })
  })

  it('a second and third exception are delivered like the first (no false #DF)', () => {
    const { vp } = boot(`
      lidt [idtr]
      xor ecx, ecx
      div rcx
      div rcx
      div rcx
      VTL_EXIT 3
    de_handler:
      VTL_PUTC 'D'
      add qword [rsp], 3          ; past the div
      iretq
    align 16
    idt:
      dw (de_handler - $$ + 0x100000) & 0xffff, 0x08
      db 0, 0x8e
      dw ((de_handler - $$ + 0x100000) >> 16) & 0xffff
      dd 0, 0
    idt_end:
    idtr:
      dw idt_end - idt - 1
      dq idt`)
    expect(runGuest(vp)).toMatchObject({ console: 'DDD', exitCode: 3 })
  })

  it('stops at the instruction limit with exactly that many instructions', () => {
    const { vp } = boot(`
      loop: inc rax
      jmp loop`)
    expect(runGuest(vp, { maxInstructions: 1001 })).toMatchObject({
      error: 'InstructionLimit',
      instructions: 1001,
    })
    expect(vp.context(0).readGprs().rax).toBe(501n)
  })

  it('HLT ends the run halted; IN from an unclaimed port reads all ones', () => {
    const { vp } = boot(`
      in al, 0x80
      mov bl, al
      mov dx, 0x1234
      in eax, dx
      hlt
      VTL_EXIT 0`)
    const result = runGuest(vp)
    expect(result).toMatchObject({ halted: true, instructions: 5 })
    const regs = vp.context(0).readGprs()
    expect(regs.rbx & 0xffn).toBe(0xffn)
    expect(regs.rax).toBe(0xffff_ffffn)
    expect(runGuest(vp)).toMatchObject({ exitCode: 0 })
  })

  it('exits on CPUID, RDMSR/WRMSR and MOV to CR0/CR4 with their operands', () => {
    const { vp } = boot(`
      mov eax, 1
      xor ecx, ecx
      cpuid
      mov ecx, 0xc0000080
      rdmsr
      mov ecx, 0x40000000
      mov eax, 0x1234
      mov edx, 0x5678
      wrmsr
      mov rbx, cr4
      mov cr4, rbx
      VTL_EXIT 0`)
    const c = vp.context(0)
    const kinds: unknown[] = []
    for (;;) {
      const { exit } = vp.enter(0, 1000)
      if (exit.kind === 'io') break
      kinds.push(exit)
      if (exit.kind === 'wrmsr') c.skip(exit)
      else if (exit.kind === 'cpuid' || exit.kind === 'rdmsr' || exit.kind === 'cr-write')
        c.executeNatively(exit)
    }
    expect(kinds).toMatchObject([
      { kind: 'cpuid', leaf: 1, subleaf: 0, length: 2 },
      { kind: 'rdmsr', msr: 0xc000_0080, length: 2 },
      { kind: 'wrmsr', msr: 0x4000_0000, value: 0x5678_0000_1234n, length: 2 },
      { kind: 'cr-write', cr: 4, value: 0x6a0n, length: 3, gpr: 3 },
    ])
    const regs = c.readGprs()
    expect(regs.rdx).toBe(0x5678n)
    expect(regs.rbx).toBe(0x6a0n)
  })

  it('gives the same console, exit code and instruction count on every run', () => {
    const source = `
      mov ecx, 200
    again:
      mov eax, ecx
      and eax, 7
      add al, '0'
      out 0xe9, al
      loop again
      VTL_EXIT 3`
    const runs = [boot(source), boot(source)].map(({ vp }) => runGuest(vp))
    expect(runs[0]).toEqual(runs[1])
    expect(runs[0]?.instructions).toBe(1 + 200 * 5 + 2)
  })
})
