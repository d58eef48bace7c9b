import { describe, expect, it } from 'vitest'
import { HvRegisterName as R } from '../hv/register-name.js'
import { setVpRegister } from './handlers/register-access.js'
import { vtlReturn } from './handlers/vtl-switch.js'
import { CrInterceptBit } from './instruction-intercept.js'
import { executeTableLoad, executeXsetbv } from './secure-register-loads.js'
import { bringUpBsp, enterVtl1, makeEngine, type Harness } from './testing/harness.js'

const RIP = 0x20_0000n
const OSXSAVE = 1n << 18n

/** VP 0 in VTL0 (CPL 0, CR4.OSXSAVE) after VTL1 set `control` and unmasked SINT0. */
function vtl0(control: bigint): Harness {
  const h = makeEngine(1)
  bringUpBsp(h)
  enterVtl1(h)
  expect(setVpRegister(h.engine, 0, 1, 1, R.CrInterceptControl, control)).toBe(0)
  h.engine.vp(0).vtls[1].synic.sint[0] = 0x30n
  expect(vtlReturn(h.engine, 0, 0x12n, 1n)).toBe(true)
  const regs = h.engine.vp(0).vtls[0].registers
  regs.rip = RIP
  regs.cr4 = 0x20n | OSXSAVE
  regs.cs = { ...regs.cs, selector: 8 }
  return h
}

function registerOf(message: Uint8Array): [number, bigint] {
  const view = new DataView(message.buffer)
  return [view.getUint32(16 + 44, true), view.getBigUint64(16 + 48, true)]
}

// vsm-on-tdx.md §13.16: XCR0 and descriptor-table loads are intercepted whenever their bit is set.
describe('XSETBV from VTL0 (§13.16)', () => {
  it.each([
    {
      name: 'x87|SSE|AVX, xcr0_write → intercepted with Xfem',
      control: CrInterceptBit.Xcr0Write,
      rax: 7n,
      intercepted: true,
    },
    { name: 'x87|SSE|AVX, no bit → XCR0 written', control: 0n, rax: 7n, written: 7n },
    {
      name: 'x87 missing → #GP before the intercept',
      control: CrInterceptBit.Xcr0Write,
      rax: 6n,
      gp: true,
    },
    { name: 'ECX = 1 → #GP', control: 0n, rax: 7n, rcx: 1n, gp: true },
    { name: 'CR4.OSXSAVE clear → #GP', control: 0n, rax: 7n, cr4: 0x20n, gp: true },
    { name: 'CPL 3 → #GP', control: 0n, rax: 7n, cpl: 3, gp: true },
  ])('$name', (row) => {
    const h = vtl0(row.control)
    const vp = h.engine.vp(0)
    const regs = vp.vtls[0].registers
    vp.shared.rax = row.rax
    vp.shared.rdx = 0n
    vp.shared.rcx = row.rcx ?? 0n
    if (row.cr4 !== undefined) regs.cr4 = row.cr4
    if (row.cpl !== undefined) regs.cs = { ...regs.cs, selector: 8 | row.cpl }
    const before = vp.shared.xfem
    const outcome = executeXsetbv(h.engine, 0)
    if (row.intercepted === true) {
      expect(outcome).toMatchObject({ kind: 'intercepted', status: 0 })
      if (outcome.kind === 'intercepted')
        expect(registerOf(outcome.message)).toEqual([R.Xfem, row.rax])
      expect(vp.shared.xfem).toBe(before)
      expect(regs.rip).toBe(RIP)
    } else if (row.gp === true) {
      expect(outcome).toEqual({ kind: 'exception', vector: 13 })
      expect(vp.shared.xfem).toBe(before)
      expect(regs.rip).toBe(RIP)
    } else {
      expect(outcome).toEqual({ kind: 'performed' })
      expect(vp.shared.xfem).toBe(row.written)
      expect(regs.rip).toBe(RIP + 3n)
    }
  })
})

describe('LGDT/LIDT/LLDT/LTR from VTL0 (§13.16)', () => {
  const table = { limit: 0x7f, base: 0xffff_8000_0000_1000n }
  const segment = { base: 0x5000n, limit: 0x67, selector: 0x40, attributes: 0x8b }
  it.each([
    {
      name: 'LGDT with gdtr_write',
      bit: CrInterceptBit.GdtrWrite,
      load: { register: 'gdtr' as const, value: table },
      name_: R.Gdtr,
    },
    {
      name: 'LIDT with idtr_write',
      bit: CrInterceptBit.IdtrWrite,
      load: { register: 'idtr' as const, value: table },
      name_: R.Idtr,
    },
    {
      name: 'LLDT with ldtr_write',
      bit: CrInterceptBit.LdtrWrite,
      load: { register: 'ldtr' as const, value: segment },
      name_: R.Ldtr,
    },
    {
      name: 'LTR with tr_write',
      bit: CrInterceptBit.TrWrite,
      load: { register: 'tr' as const, value: segment },
      name_: R.Tr,
    },
  ])('$name → intercepted with value 0; without it → loaded', (row) => {
    const h = vtl0(row.bit)
    const regs = h.engine.vp(0).vtls[0].registers
    const old = regs[row.load.register]
    const outcome = executeTableLoad(h.engine, 0, row.load, 3)
    expect(outcome).toMatchObject({ kind: 'intercepted', status: 0 })
    if (outcome.kind === 'intercepted') expect(registerOf(outcome.message)).toEqual([row.name_, 0n])
    expect(regs[row.load.register]).toEqual(old)
    expect(regs.rip).toBe(RIP)

    const other = vtl0(CrInterceptBit.Cr0Write)
    const otherRegs = other.engine.vp(0).vtls[0].registers
    expect(executeTableLoad(other.engine, 0, row.load, 3)).toEqual({ kind: 'performed' })
    expect(otherRegs[row.load.register]).toEqual(row.load.value)
    expect(otherRegs.rip).toBe(RIP + 3n)
  })
})
