import { describe, expect, it } from 'vitest'
import { HYPERCALL_PAGE_CODE, hypercallPageBytes } from '../hv/hypercall-page.js'
import { HvMapGpaFlags } from '../hv/map-gpa-flags.js'
import { VSM_CODE_PAGE_OFFSETS_X64, VSM_CODE_PAGE_OFFSETS_X86 } from '../hv/vsm-registers.js'
import { writeHypercallMsr } from './hypercall-page.js'
import { overlayTestbed as setup } from './testing/harness.js'

// vsm-on-tdx.md §13.14, §7.1; OpenVMM `hv1_emulator/src/hv.rs` (`msr_write_hypercall_page`,
// `write_hypercall_page`, `hypercall_page(false)`).

/** The Intel stubs as OpenVMM lists them, byte for byte (50 bytes). */
const STUBS = [
  '0f01c1 c3', // 0x00 vmcall; ret
  '89c1 b811000000 0f01c1 c3', // 0x04 32-bit VTL call
  '4889c8 b911000000 0f01c1 c3', // 0x0f 64-bit VTL call
  '89c1 b812000000 0f01c1 c3', // 0x1b 32-bit VTL return
  '4889c8 b912000000 0f01c1 c3', // 0x26 64-bit VTL return
]
  .join('')
  .replaceAll(' ', '')

const R = HvMapGpaFlags.Readable
const W = HvMapGpaFlags.Writable
const RX = R | HvMapGpaFlags.KernelExecutable | HvMapGpaFlags.UserExecutable

describe('the hypercall page (§13.14)', () => {
  it('is the OpenVMM stubs at the VsmCodePageOffsets, then INT3, byte for byte', () => {
    expect(Buffer.from(HYPERCALL_PAGE_CODE).toString('hex')).toBe(STUBS)
    const page = hypercallPageBytes()
    const expected = new Uint8Array(4096).fill(0xcc)
    expected.set(Buffer.from(STUBS, 'hex'))
    expect(page).toEqual(expected)
    const at = (offset: number) => Buffer.from(page.subarray(offset, offset + 5)).toString('hex')
    expect(at(VSM_CODE_PAGE_OFFSETS_X64.callOffset)).toBe('4889c8b911')
    expect(at(VSM_CODE_PAGE_OFFSETS_X64.returnOffset)).toBe('4889c8b912')
    expect(at(VSM_CODE_PAGE_OFFSETS_X86.callOffset)).toBe('89c1b81100')
    expect(at(VSM_CODE_PAGE_OFFSETS_X86.returnOffset)).toBe('89c1b81200')
  })

  it('enabling locks the page read/execute-only for the VTL and writes the stubs there', () => {
    const { engine, vp, protection, page } = setup()
    page(0x50).fill(0x11)
    expect(writeHypercallMsr(engine, vp, 0, 0x50001n)).toBe(true)
    expect(vp.vtls[0].hypercallMsr).toBe(0x50001n)
    expect(vp.vtls[1].hypercallMsr).toBe(0n)
    expect(protection.calls).toEqual([`overlay vtl0 80 check ${R | W} perms ${RX}`])
    expect(page(0x50)).toEqual(hypercallPageBytes())
  })

  it('moving locks the new page before releasing the old one, which keeps the stubs', () => {
    const { engine, vp, protection, page } = setup()
    writeHypercallMsr(engine, vp, 1, 0x50001n)
    protection.calls.length = 0
    expect(writeHypercallMsr(engine, vp, 1, 0x60001n)).toBe(true)
    expect(protection.calls).toEqual([
      `overlay vtl1 96 check ${R | W} perms ${RX}`,
      'unoverlay vtl1 80',
    ])
    expect(page(0x60)).toEqual(hypercallPageBytes())
    expect(page(0x50)).toEqual(hypercallPageBytes())
  })

  it('disabling releases the page and copies nothing back; the same GPN again is no remap', () => {
    const { engine, vp, protection, page } = setup()
    writeHypercallMsr(engine, vp, 0, 0x50001n)
    page(0x50)[0] = 0x90
    expect(writeHypercallMsr(engine, vp, 0, 0x50001n)).toBe(true)
    expect(page(0x50)[0]).toBe(0x90)
    expect(writeHypercallMsr(engine, vp, 0, 0x50000n)).toBe(true)
    expect(protection.calls.slice(1)).toEqual(['unoverlay vtl0 80'])
    expect(vp.vtls[0].hypercallMsr).toBe(0x50000n)
    expect(page(0x50)[0]).toBe(0x90)
  })

  it.each([
    { what: 'reserved bit 2', before: 0n, value: 0x50005n },
    { what: 'reserved bit 11', before: 0n, value: 0x50801n },
    { what: 'a page the VTL cannot lock', before: 0n, value: 0x66001n },
    { what: 'any write once locked', before: 0x50003n, value: 0x50001n },
    { what: 'disabling once locked', before: 0x50003n, value: 0n },
  ])('refuses $what (#GP) and changes nothing', ({ before, value }) => {
    const { engine, vp, protection, ram } = setup()
    protection.refused.add(0x66n)
    if (before !== 0n) expect(writeHypercallMsr(engine, vp, 0, before)).toBe(true)
    const calls = protection.calls.length
    const bytes = ram.slice()
    expect(writeHypercallMsr(engine, vp, 0, value)).toBe(false)
    expect(vp.vtls[0].hypercallMsr).toBe(before)
    expect(protection.calls.slice(calls).filter((c) => c.startsWith('unoverlay'))).toEqual([])
    expect(Buffer.from(ram).equals(bytes)).toBe(true)
  })

  it('without guest memory the MSR is kept and nothing is registered', () => {
    const { engine, vp, protection } = setup(false)
    expect(writeHypercallMsr(engine, vp, 0, 0x50001n)).toBe(true)
    expect(vp.vtls[0].hypercallMsr).toBe(0x50001n)
    expect(protection.calls).toEqual([])
  })
})
