import type { GuestVtl } from '@vtl/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { eventFromEntryInterruptInfo } from '../cpu/entry-interrupt-info.js'
import { PageAccess, PagePermissionTable } from '../cpu/page-permissions.js'
import { readSharedState, type X86SharedState } from '../cpu/register-state.js'
import { SHARED_GPRS_64 } from '../cpu/registers.js'
import type { VtlContext } from '../cpu/vtl-context.js'
import { X86Reg } from '../unicorn/constants.js'
import { applyStartState, buildLoaderTables } from '../loader/start-state.js'
import { loadImages } from '../loader/images.js'
import { nasm } from '../test/nasm.js'
import { guestCodeSkip } from '../test/skip.js'
import { X86Backing, type PrivateBank, type X86BackingOptions } from './x86-backing.js'

const skip = guestCodeSkip()

const HEAD = '%include "vtl-guest.asm"\nbits 64\n'
const MEMORY = 16 << 20

function privateBank(): PrivateBank {
  return {
    rip: 0n,
    rsp: 0n,
    rflags: 2n,
    cr0: 0n,
    cr3: 0n,
    cr4: 0n,
    cr8: 0n,
    efer: 0n,
    dr7: 0x400n,
    cs: { selector: 0 },
    ds: { selector: 0 },
    es: { selector: 0 },
    fs: { selector: 0 },
    gs: { selector: 0 },
    ss: { selector: 0 },
    gdtr: { base: 0n, limit: 0 },
    idtr: { base: 0n, limit: 0 },
  }
}

/** Register banks as a VP loop keeps them: the truth the backing copies in and out. */
function banks() {
  const shared = {} as X86SharedState
  const privates: [PrivateBank, PrivateBank] = [privateBank(), privateBank()]
  return {
    shared,
    privates,
    banks: { shared: () => shared, private: (_vp: number, vtl: GuestVtl) => privates[vtl] },
  }
}

/** The shared registers the banks hold (the GPRs but RSP, CR2, DR0–3, DR6). */
const SHARED_IDS = new Set([...SHARED_GPRS_64, X86Reg.DR0 + 6])

/** Every shared register written into the context's CPU from now on, in order. */
function sharedWrites(context: VtlContext): number[] {
  const written: number[] = []
  const { engine } = context
  const writeRegs = engine.writeRegs.bind(engine)
  const writeReg = engine.writeReg.bind(engine)
  vi.spyOn(engine, 'writeRegs').mockImplementation((regs, values) => {
    written.push(...regs.filter((r) => SHARED_IDS.has(r)))
    writeRegs(regs, values)
  })
  vi.spyOn(engine, 'writeReg').mockImplementation((reg, value) => {
    if (SHARED_IDS.has(reg)) written.push(reg)
    writeReg(reg, value)
  })
  return written
}

describe.skipIf(skip)('X86Backing: the CPU behind a VP loop with register banks', () => {
  const backings: X86Backing[] = []
  afterEach(() => {
    for (const b of backings.splice(0)) b.close()
  })

  function boot(
    vtl0: string,
    vtl1 = '',
    permissions?: PagePermissionTable,
    wrmsr?: X86BackingOptions['wrmsr']
  ) {
    const ram = Buffer.alloc(MEMORY)
    const layout = buildLoaderTables(ram)
    loadImages(ram, [
      { gpa: 0x100000n, bytes: nasm(`${HEAD}org 0x100000\n${vtl0}`) },
      ...(vtl1 === '' ? [] : [{ gpa: 0x200000n, bytes: nasm(`${HEAD}org 0x200000\n${vtl1}`) }]),
    ])
    const state = banks()
    const backing = new X86Backing({
      ram,
      banks: state.banks,
      ...(permissions === undefined ? {} : { permissions }),
      ...(wrmsr === undefined ? {} : { wrmsr }),
    })
    backings.push(backing)
    applyStartState(backing.vp(0).context(0), layout, { rip: 0x100000n, rsp: 0x80000n })
    backing.syncBankFromCpu(0, 0)
    return { backing, ...state, ram }
  }

  it('reports a VMCALL as VMX exit 18 with the registers in the bank; the loop completes it', () => {
    const { backing, shared, privates } = boot(`
      HV_HYPERCALL HvCallEnablePartitionVtl, 0x300000, 0
      mov ebx, eax
      VTL_EXIT ebx`)
    const exit = backing.enter(0, 0)
    expect(exit).toEqual({
      tdxStatus: 0,
      reason: 18,
      qualification: 0n,
      gpa: 0n,
      gla: 0n,
      instructionLength: 3,
      cpl: 0,
    })
    expect(shared).toMatchObject({ rcx: 0xdn, rdx: 0x300000n, r8: 0n })
    // What the engine does: status in RAX, RIP past the VMCALL — in the banks only.
    shared.rax = 0x5n
    privates[0].rip += 3n
    const end = backing.enter(0, 0)
    expect(end.reason).toBe(1) // the exit-code write: the host takes the CPU back
    expect(backing.ports(0).exitCode).toBe(5)
    expect(backing.budgetSpent(0)).toBe(false)
  })

  it('a selector the guest loads brings its descriptor from the GDT into the bank', () => {
    // Descriptor 0x18: base 0x456789, limit 0xffff (byte granular), DPL 3 data, DB set.
    const { backing, privates } = boot(`
      lgdt [gdtr]
      mov ax, 0x18
      mov ds, ax
      HV_HYPERCALL HvCallEnablePartitionVtl, 0x300000, 0
      VTL_EXIT 0
    align 8
    gdt: dq 0, 0x00209b0000000000, 0x00cf93000000ffff, 0x0040f3456789ffff
    gdtr: dw 31
          dq gdt`)
    // A bank that keeps hidden parts (the loader's flat data segment), as the engine's do.
    const flat = { base: 0n, limit: 0xffffffff, attributes: 0xc093 }
    privates[0].ds = { selector: privates[0].ds?.selector ?? 0, ...flat }
    expect(backing.enter(0, 0).reason).toBe(18)
    expect(privates[0].ds).toEqual({
      selector: 0x18,
      base: 0x456789n,
      limit: 0xffff,
      attributes: 0x40f3,
    })
  })

  it('after a run that threw, the next entry writes every register of the bank again', () => {
    // The guest reads RBX as the entry loaded it, then changes it; the first WRMSR throws (a
    // device hook failing), so the bank never sees the change and still holds RBX = 0x77.
    const values: bigint[] = []
    const { backing, shared } = boot(
      `mov rax, rbx
       mov rbx, 0x1234
       xor edx, edx
       mov ecx, 0x80b
       wrmsr
       HV_HYPERCALL HvCallEnablePartitionVtl, 0x300000, 0`,
      '',
      undefined,
      (_vp, _vtl, _msr, value) => {
        values.push(value)
        if (values.length === 1) throw new Error('device failed')
        return true
      }
    )
    shared.rbx = 0x77n
    expect(() => backing.enter(0, 0)).toThrow('device failed')
    expect(backing.enter(0, 0).reason).toBe(18)
    expect(values).toEqual([0x77n, 0x77n])
  })

  it('after close, a new CPU is loaded from the whole bank', () => {
    const { backing, shared } = boot(`
      HV_HYPERCALL HvCallEnablePartitionVtl, 0x300000, 0
      mov ebx, eax
      VTL_EXIT ebx`)
    expect(backing.enter(0, 0).reason).toBe(18)
    backing.close()
    // The bank is unchanged (still at the VMCALL): the new CPU must get paging, RIP and RCX back.
    expect(backing.enter(0, 0)).toMatchObject({ reason: 18, instructionLength: 3 })
    expect(shared).toMatchObject({ rcx: 0xdn, rdx: 0x300000n })
  })

  it('writes only the shared registers the loop changed, once each, also across a VTL switch', () => {
    const { backing, shared, privates } = boot(
      `HV_HYPERCALL HvCallEnablePartitionVtl, 0x300000, 0
       VTL_CALL
       VTL_EXIT ebx`,
      `mov ebx, 0x77
       VTL_RETURN 1`
    )
    expect(backing.enter(0, 0)).toMatchObject({ reason: 18 })
    const vtl0 = backing.vp(0).context(0)
    const intoVtl0 = sharedWrites(vtl0)
    // The loop answers the hypercall: RAX in the shared bank, RIP past the VMCALL.
    expect(shared.rax).not.toBe(0x5n)
    shared.rax = 0x5n
    privates[0].rip += 3n
    expect(backing.enter(0, 0)).toMatchObject({ reason: 18 }) // VTL_CALL
    expect(intoVtl0).toEqual([X86Reg.RAX])
    // Into VTL1 (a fresh CPU): every shared register once, from the bank.
    privates[0].rip += 3n
    Object.assign(privates[1], structuredClone(privates[0]), { rip: 0x200000n, rsp: 0x60000n })
    const intoVtl1 = sharedWrites(backing.vp(0).context(1))
    expect(backing.enter(0, 1)).toMatchObject({ reason: 18 }) // VTL_RETURN
    expect(intoVtl1.toSorted()).toEqual([...SHARED_IDS].toSorted())
    // Back into VTL0: only what VTL1 changed, once each.
    const held = readSharedState(vtl0)
    const changed = Object.keys(held).filter(
      (name) => held[name as keyof X86SharedState] !== shared[name as keyof X86SharedState]
    )
    intoVtl0.length = 0
    privates[1].rip += 3n
    expect(backing.enter(0, 0)).toMatchObject({ reason: 1 })
    expect(backing.ports(0).exitCode).toBe(0x77)
    expect(changed).toEqual(expect.arrayContaining(['rbx', 'rcx']))
    expect(intoVtl0).toHaveLength(changed.length)
    expect(new Set(intoVtl0).size).toBe(changed.length)
  })

  it('an EPT violation is exit 48 with the GPA and the access in the qualification', () => {
    const permissions = new PagePermissionTable(MEMORY / 4096)
    permissions.set(0, 0x300, 1, PageAccess.READ)
    const { backing } = boot('mov qword [0x300008], 1', '', permissions)
    expect(backing.enter(0, 0)).toMatchObject({
      reason: 48,
      gpa: 0x300008n,
      qualification: 0x18an, // write (2), page readable (8), GLA valid (0x80), translated (0x100)
      instructionLength: 12,
    })
  })

  it('VTL1 starts from the context the bank holds (as EnableVpVtl sets it)', () => {
    const { backing, shared, privates } = boot(
      `VTL_CALL
       VTL_EXIT ebx`,
      `mov ebx, 0x77
       mov eax, 0x1234
       movq xmm0, rax
       VTL_RETURN 1`
    )
    expect(backing.enter(0, 0)).toMatchObject({ reason: 18 })
    expect(shared.rcx).toBe(0x11n)
    // EnableVpVtl gave VTL1 VTL0's control state and segments, its own RIP and RSP.
    privates[0].rip += 3n
    Object.assign(privates[1], structuredClone(privates[0]), { rip: 0x200000n, rsp: 0x60000n })
    expect(backing.enter(0, 1)).toMatchObject({ reason: 18 })
    expect(shared).toMatchObject({ rcx: 0x12n, rbx: 0x77n })
    // XMM is shared too: VTL1's value is what a fast hypercall from it would read.
    expect(backing.xmm(0)[0]).toBe(0x1234n)
    privates[1].rip += 3n
    expect(backing.enter(0, 0)).toMatchObject({ reason: 1 })
    expect(backing.ports(0).exitCode).toBe(0x77)
    expect(privates[1].rsp).toBe(0x60000n)
  })

  it('an event from the entry-interruption field is delivered through the IDT', () => {
    const ram = Buffer.alloc(MEMORY)
    const layout = buildLoaderTables(ram)
    const code = nasm(`${HEAD}org 0x100000
      lidt [idtr]
      ud2                         ; the loop injects #GP(0x18) before this runs
    gp:
      pop rbx                     ; the error code
      VTL_EXIT ebx
    align 16
    idt:
      times 13 dq 0, 0
      dw (gp - $$ + 0x100000) & 0xffff, 0x08
      db 0, 0x8e
      dw ((gp - $$ + 0x100000) >> 16) & 0xffff
      dd 0, 0
    idt_end:
    idtr:
      dw idt_end - idt - 1
      dq idt`)
    loadImages(ram, [{ gpa: 0x100000n, bytes: code }])
    const state = banks()
    let info = 0
    const backing = new X86Backing({
      ram,
      banks: state.banks,
      entryEvent: () => eventFromEntryInterruptInfo(info, 0x18),
    })
    backings.push(backing)
    applyStartState(backing.vp(0).context(0), layout, { rip: 0x100000n, rsp: 0x80000n })
    backing.syncBankFromCpu(0, 0)
    backing.setBudget(0, 1) // just the LIDT
    expect(backing.enter(0, 0)).toMatchObject({ reason: 1 })
    info = 0x8000_0b0d
    backing.setBudget(0, 1000)
    expect(backing.enter(0, 0)).toMatchObject({ reason: 1 })
    expect(backing.ports(0).exitCode).toBe(0x18)
  })

  it('a spent budget comes back as an external interrupt', () => {
    const { backing } = boot('spin: jmp spin')
    backing.setBudget(0, 100)
    expect(backing.enter(0, 0)).toMatchObject({ reason: 1 })
    expect(backing.budgetSpent(0)).toBe(true)
  })
})
