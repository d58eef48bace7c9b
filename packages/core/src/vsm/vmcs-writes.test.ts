import { describe, expect, it } from 'vitest'
import { resetPrivateRegisters } from './registers.js'
import {
  VMCS_WRITE_FIELD_COUNT,
  forEachVmcsWrite,
  vmcsWritePlan,
  vmcsWrites,
  vmxAccessRights,
} from './vmcs-writes.js'

describe('VMCS writes of a register write', () => {
  it('writes CR0/CR4 with their read shadows, then segments, tables and SYSENTER, in order', () => {
    const writes = vmcsWrites({
      cr0: 0x8000_0031n,
      cr4: 0x20n,
      ldtr: { base: 0n, limit: 0, selector: 0, attributes: 0 },
      gdtr: { limit: 0x1f, base: 0x3000n },
      sysenterEsp: 0x9000n,
    })
    expect(writes.map((w) => [w.encoding, w.value])).toEqual([
      [0x6800, 0x8000_0031n], // GUEST_CR0
      [0x6004, 0x8000_0031n], // CR0_READ_SHADOW
      [0x6804, 0x20n], // GUEST_CR4
      [0x6006, 0x20n], // CR4_READ_SHADOW
      [0x080c, 0n], // GUEST_LDTR_SELECTOR
      [0x6812, 0n], // GUEST_LDTR_BASE
      [0x480c, 0n], // GUEST_LDTR_LIMIT
      [0x4820, 0x1_0000n], // GUEST_LDTR_AR: not present → unusable
      [0x6816, 0x3000n], // GUEST_GDTR_BASE
      [0x4810, 0x1fn], // GUEST_GDTR_LIMIT
      [0x6824, 0x9000n], // GUEST_SYSENTER_ESP
    ])
  })

  it('has no VMCS field for RIP, RSP, RFLAGS or the syscall MSRs', () => {
    expect(vmcsWrites({ rip: 1n, rsp: 2n, rflags: 2n, lstar: 3n, star: 4n })).toEqual([])
  })

  it('stops where the callback refuses and counts the accepted writes', () => {
    let calls = 0
    const accepted = forEachVmcsWrite({ cr0: 0x31n, cr3: 0x4000n }, () => ++calls < 3)
    expect(calls).toBe(3)
    expect(accepted).toBe(2)
  })

  it('keeps a present segment’s attributes and marks a not-present one unusable', () => {
    expect(vmxAccessRights({ base: 0n, limit: 0, selector: 8, attributes: 0xa09b })).toBe(0xa09bn)
    expect(vmxAccessRights({ base: 0n, limit: 0, selector: 0, attributes: 0x0082 })).toBe(0x82n)
    expect(vmxAccessRights({ base: 0n, limit: 0, selector: 0, attributes: 0x0002 })).toBe(0x1_0002n)
  })

  it('numbers every field of a whole bank once, in write order, 0 … VMCS_WRITE_FIELD_COUNT − 1', () => {
    const seen: [number, number][] = []
    const accepted = forEachVmcsWrite(resetPrivateRegisters(), (encoding, _value, index) => {
      seen.push([encoding, index])
      return true
    })
    expect(accepted).toBe(VMCS_WRITE_FIELD_COUNT)
    expect(seen.map(([, index]) => index)).toEqual([...Array(VMCS_WRITE_FIELD_COUNT).keys()])
    expect(new Set(seen.map(([encoding]) => encoding)).size).toBe(VMCS_WRITE_FIELD_COUNT)
    expect(seen.map(([encoding]) => encoding)).toEqual(
      vmcsWrites(resetPrivateRegisters()).map((w) => w.encoding)
    )
  })

  it.each([...Array(VMCS_WRITE_FIELD_COUNT + 1).keys()])(
    'a refusal of call %i stops there and reports the writes before it',
    (refused) => {
      let calls = 0
      const accepted = forEachVmcsWrite(resetPrivateRegisters(), () => calls++ !== refused)
      expect(accepted).toBe(Math.min(refused, VMCS_WRITE_FIELD_COUNT))
      expect(calls).toBe(Math.min(refused + 1, VMCS_WRITE_FIELD_COUNT))
    }
  )

  it('plans an immutable write once, as forEachVmcsWrite calls it; none for a mutable one', () => {
    const cs = Object.freeze({ base: 0n, limit: 0xffff_ffff, selector: 8, attributes: 0xa09b })
    const gdtr = Object.freeze({ limit: 0x1f, base: 0x3000n })
    const write = Object.freeze({ cr0: 0x8000_0031n, cr3: 0x4000n, cs, gdtr })
    const calls: [number, bigint, number][] = []
    forEachVmcsWrite(write, (encoding, value, index) => calls.push([encoding, value, index]) > 0)
    const plan = vmcsWritePlan(write)
    expect(plan?.encodings.map((e, i) => [e, plan.values[i], plan.indices[i]])).toEqual(calls)
    expect(vmcsWritePlan(write)).toBe(plan)
    expect(vmcsWritePlan({ cr0: 0x31n })).toBeUndefined()
    // Frozen, but a segment inside could still change.
    expect(vmcsWritePlan(Object.freeze({ cs: { ...cs } }))).toBeUndefined()
  })
})
