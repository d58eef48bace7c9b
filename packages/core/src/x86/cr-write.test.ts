import { describe, expect, it } from 'vitest'
import { movToCr0, movToCr4, type ControlState } from './cr-write.js'

/** Long mode, paging: EFER = LME|LMA|NXE, CR0 = PE|ET|NE|WP|PG, CR4 = PAE|OSFXSR, 64-bit code. */
const LONG: ControlState = {
  cr0: 0x8001_0031n,
  cr3: 0x1000n,
  cr4: 0x220n,
  efer: 0xd00n,
  csLong: true,
}
/** Protected mode without paging, LME set (about to enter long mode), 32-bit code. */
const PROT: ControlState = { cr0: 0x11n, cr3: 0x1000n, cr4: 0x20n, efer: 0x900n, csLong: false }
const ALLOWED = 0x00b7_1fffn

// The CPU's MOV-to-CR rules the §13.16 "performed" path applies.
describe('MOV to CR0', () => {
  it.each([
    { name: 'clearing WP', state: LONG, value: 0x8000_0031n, ok: true, result: 0x8000_0031n },
    {
      name: 'reserved low bits are ignored and ET reads 1',
      state: LONG,
      value: 0x8001_0021n | 0x40n,
      ok: true,
      result: 0x8001_0031n,
    },
    { name: 'a high-half bit', state: LONG, value: 0x1_8001_0031n, ok: false },
    { name: 'PG without PE', state: PROT, value: 0x8000_0010n, ok: false },
    { name: 'NW without CD', state: LONG, value: 0xa001_0031n, ok: false },
    { name: 'NW with CD', state: LONG, value: 0xe001_0031n, ok: true, result: 0xe001_0031n },
    { name: 'clearing PG in 64-bit mode', state: LONG, value: 0x0001_0031n, ok: false },
    {
      name: 'clearing PG in compatibility mode leaves IA-32e mode',
      state: { ...LONG, csLong: false },
      value: 0x0001_0031n,
      ok: true,
      result: 0x0001_0031n,
      efer: 0x900n,
    },
    {
      name: 'PG with LME and PAE enters IA-32e mode',
      state: PROT,
      value: 0x8000_0011n,
      ok: true,
      result: 0x8000_0011n,
      efer: 0xd00n,
    },
    {
      name: 'PG with LME and PAE clear',
      state: { ...PROT, cr4: 0n },
      value: 0x8000_0011n,
      ok: false,
    },
    {
      name: 'WP cleared while CR4.CET is set',
      state: { ...LONG, cr4: 0x80_0220n },
      value: 0x8000_0031n,
      ok: false,
    },
  ])('$name', ({ state, value, ok, result, efer }) => {
    const out = movToCr0(state, value)
    expect(out.ok).toBe(ok)
    if (out.ok) {
      expect(out.value).toBe(result)
      expect(out.efer).toBe(efer ?? state.efer)
    }
  })
})

describe('MOV to CR4', () => {
  it.each([
    { name: 'setting SMEP', state: LONG, value: 0x10_0220n, ok: true },
    { name: 'VMXE (not allowed)', state: LONG, value: 0x2220n, ok: false },
    { name: 'PKE (not allowed)', state: LONG, value: 0x40_0220n, ok: false },
    { name: 'clearing PAE in IA-32e mode', state: LONG, value: 0x200n, ok: false },
    { name: 'clearing PAE outside IA-32e mode', state: PROT, value: 0n, ok: true },
    { name: 'changing LA57 in IA-32e mode', state: LONG, value: 0x1220n, ok: false },
    { name: 'PCIDE with CR3[11:0] = 0', state: LONG, value: 0x2_0220n, ok: true },
    {
      name: 'PCIDE with CR3[11:0] ≠ 0',
      state: { ...LONG, cr3: 0x1001n },
      value: 0x2_0220n,
      ok: false,
    },
    { name: 'PCIDE outside IA-32e mode', state: PROT, value: 0x2_0020n, ok: false },
    { name: 'CET with CR0.WP set', state: LONG, value: 0x80_0220n, ok: true },
    {
      name: 'CET with CR0.WP clear',
      state: { ...LONG, cr0: 0x8000_0031n },
      value: 0x80_0220n,
      ok: false,
    },
  ])('$name', ({ state, value, ok }) => {
    const out = movToCr4(state, value, ALLOWED)
    expect(out.ok).toBe(ok)
    if (out.ok) expect(out.value).toBe(value)
  })
})
