import { describe, expect, it } from 'vitest'
import { HvStatus } from '../hv/status.js'
import { toHex } from '../hv/testing/arbitraries.js'
import { VtlEntryReason } from '../hv/vp-assist-page.js'
import { completeSintMessage, deliverGpaIntercept, type GpaFault } from './gpa-intercept.js'
import { prepareEntry } from './interrupts.js'
import { snapshotEngine } from './snapshot.js'
import { bringUpBsp, makeEngine } from './testing/harness.js'

function ready(options: { unmask?: boolean; simp?: boolean } = {}) {
  const h = makeEngine(1)
  bringUpBsp(h)
  const vp = h.engine.vp(0)
  if (options.unmask ?? true) vp.vtls[1].synic.sint[0] = 0x31n
  if (options.simp ?? true) vp.vtls[1].synic.simp = 0x9000n | 1n
  const regs = vp.vtls[0].registers
  regs.rip = 0xffff_f800_1234_5678n
  regs.rflags = 0x246n
  regs.cs = { base: 0n, limit: 0xffff_ffff, selector: 0x10, attributes: 0xa09b }
  regs.cr0 = 0x8005_0033n
  regs.efer = 0xd01n
  return { h, vp }
}

const write: GpaFault = {
  gpa: 0x1234_5000n,
  gva: 0xffff_c000_0000_1000n,
  access: 'write',
  readable: true,
  instructionLength: 3,
  instructionBytes: Uint8Array.from([0x89, 0x07, 0x90]),
}

describe('GPA intercepts to VTL1 (§7.4, §13.1, §13.3)', () => {
  it('lays out HvMessage + HvX64MemoryInterceptMessage byte for byte', () => {
    const { h } = ready()
    const outcome = deliverGpaIntercept(h.engine, 0, write)
    expect(outcome.status).toBe(HvStatus.Success)
    const message = outcome.message ?? new Uint8Array()
    expect(message.length).toBe(256)
    expect(toHex(message.subarray(0, 96))).toBe(
      [
        // header: type 0x80000001, payload size 0x50, flags 0, reserved, sender 0
        '01000080 50 00 0000 0000000000000000',
        // vp 0, instruction length 3 | cr8 0, access WRITE, execution state: cpl 0, pe, am, lma
        '00000000 03 01 1c00',
        // cs: base 0, limit, selector 0x10, attributes 0xa09b
        '0000000000000000 ffffffff 1000 9ba0',
        // rip, rflags
        '78563412 00f8ffff',
        '4602000000000000',
        // cache type WB, 3 instruction bytes, gva valid, tpr 0, reserved
        '06000000 03 01 00 00',
        // gva, gpa
        '00100000 00c0ffff',
        '0050341200000000',
        // instruction bytes
        '890790' + '00'.repeat(13),
      ]
        .join('')
        .replace(/ /g, '')
    )
    expect(toHex(message.subarray(96))).toBe('00'.repeat(160))
  })

  it('VTL1 sees SINT0 vector and preempts VTL0 with entry reason INTERRUPT; VTL0 RIP stays', () => {
    const { h, vp } = ready()
    vp.vtls[1].registers.rflags = 0x202n
    const rip = vp.vtls[0].registers.rip
    deliverGpaIntercept(h.engine, 0, write)
    expect(vp.exitVtl).toBe(1)
    expect(vp.vtls[1].control.entryReason).toBe(VtlEntryReason.Interrupt)
    expect(prepareEntry(h.engine, 0)).toMatchObject({ vtl: 1, vector: 0x31 })
    expect(vp.vtls[0].registers.rip).toBe(rip)
  })

  it('§13.3: an execute fault on a readable page is spurious; on an unreadable one it is a READ', () => {
    const { h } = ready()
    const before = snapshotEngine(h.engine)
    const spurious = deliverGpaIntercept(h.engine, 0, {
      gpa: 0x1000n,
      access: 'execute',
      readable: true,
    })
    expect(spurious).toEqual({ status: 0, spurious: true })
    expect(snapshotEngine(h.engine)).toEqual(before)
    const read = deliverGpaIntercept(h.engine, 0, {
      gpa: 0x1000n,
      access: 'execute',
      readable: false,
    })
    expect(read.message?.[21]).toBe(0)
    expect(read.message?.[61]).toBe(0)
  })

  it('§13.1: SINT0 masked at reset → InvalidSynicState, nothing changes', () => {
    const { h } = ready({ unmask: false })
    const before = snapshotEngine(h.engine)
    expect(deliverGpaIntercept(h.engine, 0, write)).toEqual({ status: 0x18, spurious: false })
    expect(snapshotEngine(h.engine)).toEqual(before)
  })

  it('§13.1: a busy message slot → ObjectInUse until VTL1 consumes the message', () => {
    const { h } = ready()
    expect(deliverGpaIntercept(h.engine, 0, write).status).toBe(0)
    const before = snapshotEngine(h.engine)
    expect(deliverGpaIntercept(h.engine, 0, write)).toEqual({ status: 0x19, spurious: false })
    expect(snapshotEngine(h.engine)).toEqual(before)
    expect(completeSintMessage(h.engine, 0)).toBe(true)
    expect(deliverGpaIntercept(h.engine, 0, write).status).toBe(0)
  })

  it('§13.1: without SIMP only the first intercept is ever delivered', () => {
    const { h } = ready({ simp: false })
    expect(deliverGpaIntercept(h.engine, 0, write).status).toBe(0)
    expect(completeSintMessage(h.engine, 0)).toBe(false)
    expect(deliverGpaIntercept(h.engine, 0, write).status).toBe(0x19)
  })
})
