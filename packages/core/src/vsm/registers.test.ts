import { describe, expect, it } from 'vitest'
import { advanceRip, resetPrivateRegisters, type PrivateRegisters } from './registers.js'

describe('advanceRip (the bank keeps RIP as two u32 halves behind its rip accessor)', () => {
  it.each([
    { rip: 0xfff0n, by: 3, want: 0xfff3n },
    { rip: 0xffff_fffen, by: 3, want: 0x1_0000_0001n }, // carry into RIP[63:32]
    { rip: 0xffff_ffff_ffff_fffen, by: 3, want: 0x1n }, // wraps at 2^64
    { rip: 0xffff_8000_0000_1000n, by: 15, want: 0xffff_8000_0000_100fn },
    { rip: -2n, by: 3, want: 0x1n }, // a negative write is taken modulo 2^64, as before
  ])('$rip + $by', ({ rip, by, want }) => {
    const bank = resetPrivateRegisters()
    bank.rip = rip
    advanceRip(bank, by)
    expect(bank.rip).toBe(want)
  })

  it('advances again after a read and after a write', () => {
    const bank = resetPrivateRegisters()
    advanceRip(bank, 3)
    expect(bank.rip).toBe(0xfff3n)
    advanceRip(bank, 3)
    expect(bank.rip).toBe(0xfff6n)
    bank.rip = 0x2000n
    advanceRip(bank, 1)
    expect(bank.rip).toBe(0x2001n)
  })

  it('advances a plain register object the same way', () => {
    const plain: PrivateRegisters = { ...resetPrivateRegisters(), rip: 0xffff_ffff_ffff_ffffn }
    advanceRip(plain, 2)
    expect(plain.rip).toBe(0x1n)
  })

  it('refuses a write to the RIP of a frozen bank, as for a data property', () => {
    const bank = Object.freeze(resetPrivateRegisters())
    expect(() => {
      ;(bank as PrivateRegisters).rip = 0x1000n
    }).toThrow(TypeError)
    expect(bank.rip).toBe(0xfff0n)
    // Freezing a copy leaves the bank it came from writable.
    const live = resetPrivateRegisters()
    Object.freeze(structuredClone(live))
    live.rip = 0x1000n
    expect(live.rip).toBe(0x1000n)
  })

  it('leaves rip an ordinary first property: keys, spread, structuredClone, Object.assign', () => {
    const bank = resetPrivateRegisters()
    advanceRip(bank, 3)
    expect(Object.keys(bank)).toHaveLength(29)
    expect(Object.keys(bank)[0]).toBe('rip')
    expect({ ...bank }.rip).toBe(0xfff3n)
    const clone = structuredClone(bank)
    expect(clone.rip).toBe(0xfff3n)
    expect(Object.keys(clone)).toEqual(Object.keys(bank))
    const other = resetPrivateRegisters()
    Object.assign(other, clone)
    expect(other).toEqual(bank)
  })

  it('makes each reset bank a plain object of its own with the reset values', () => {
    const bank = resetPrivateRegisters()
    expect(Object.getPrototypeOf(bank)).toBe(Object.prototype)
    expect(bank.constructor).toBe(Object)
    // The RIP cell is no property: every own property is one of the registers.
    expect(Object.getOwnPropertyNames(bank)).toEqual(Object.keys(bank))
    const clone = structuredClone(bank)
    advanceRip(clone, 2)
    expect(clone.rip).toBe(0xfff2n)
    expect(bank.rip).toBe(0xfff0n)
    expect(JSON.stringify(bank, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))).toBe(
      JSON.stringify({
        rip: '65520n',
        rsp: '0n',
        rflags: '2n',
        cr0: '1610612752n',
        cr3: '0n',
        cr4: '0n',
        cr8: '0n',
        efer: '0n',
        pat: '1974748653749254n',
        cs: { base: '4294901760n', limit: 0xffff, selector: 0xf000, attributes: 0x9b },
        ds: { base: '0n', limit: 0xffff, selector: 0, attributes: 0x93 },
        es: { base: '0n', limit: 0xffff, selector: 0, attributes: 0x93 },
        fs: { base: '0n', limit: 0xffff, selector: 0, attributes: 0x93 },
        gs: { base: '0n', limit: 0xffff, selector: 0, attributes: 0x93 },
        ss: { base: '0n', limit: 0xffff, selector: 0, attributes: 0x93 },
        tr: { base: '0n', limit: 0xffff, selector: 0, attributes: 0x8b },
        ldtr: { base: '0n', limit: 0xffff, selector: 0, attributes: 0x82 },
        idtr: { limit: 0xffff, base: '0n' },
        gdtr: { limit: 0xffff, base: '0n' },
        dr7: '1024n',
        kernelGsBase: '0n',
        star: '0n',
        lstar: '0n',
        cstar: '0n',
        sfmask: '0n',
        sysenterCs: '0n',
        sysenterEip: '0n',
        sysenterEsp: '0n',
        tscAux: '0n',
      })
    )
    // Banks are separate: a write to one leaves another as it was.
    const other = resetPrivateRegisters()
    bank.rip = 0x1000n
    bank.cr3 = 0x4000n
    expect(other.rip).toBe(0xfff0n)
    expect(other.cr3).toBe(0n)
  })
})
