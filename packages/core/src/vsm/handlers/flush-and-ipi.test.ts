import { describe, expect, it } from 'vitest'
import { HvStatus } from '../../hv/status.js'
import { bytes } from '../../hv/testing/arbitraries.js'
import { dispatchHypercall } from '../dispatch.js'
import { prepareEntry } from '../interrupts.js'
import { WakeReason } from '../shared-state.js'
import { snapshotEngine } from '../snapshot.js'
import { bringUpBsp, control, enterVtl1, makeEngine, type Harness } from '../testing/harness.js'
import { flushVirtualAddress } from './flush.js'
import { sendSyntheticClusterIpi } from './send-synthetic-cluster-ipi.js'

function flushInput(flags: bigint, mask: bigint): Uint8Array {
  const out = new Uint8Array(24)
  const view = new DataView(out.buffer)
  view.setBigUint64(8, flags, true)
  view.setBigUint64(16, mask, true)
  return out
}

describe('FlushVirtualAddressSpace/List(Ex) status rules (§13.10)', () => {
  const rows = [
    {
      name: 'an unknown flag → InvalidParameter',
      code: 0x02,
      input: flushInput(0x10n, 1n),
      status: 0x05,
    },
    {
      name: 'use_extended_range_format on the space call → InvalidParameter',
      code: 0x02,
      input: flushInput(0x8n, 1n),
      status: 0x05,
    },
    {
      name: 'no processors and not all → InvalidParameter',
      code: 0x02,
      input: flushInput(0n, 0n),
      status: 0x05,
    },
    {
      name: 'all processors with an empty mask → Success',
      code: 0x02,
      input: flushInput(1n, 0n),
      status: 0,
    },
    {
      name: 'the list call may use extended ranges',
      code: 0x03,
      input: flushInput(0x8n, 1n),
      status: 0,
    },
  ]
  it.each(rows)('$name', (row) => {
    const h = makeEngine(2)
    expect(flushVirtualAddress(h.engine, 0, row.code, row.input)).toBe(row.status)
  })

  // §13.17: the input rules of the flush calls, in order, each with its status.
  const SPACE = '0000000000000000'
  const exRows = [
    {
      name: 'Ex sparse {VP 1}',
      flags: '0000000000000000',
      set: '0000000000000000 0100000000000000 0200000000000000',
      status: 0,
    },
    {
      name: 'Ex empty sparse set, not all → InvalidParameter',
      flags: '0000000000000000',
      set: '0000000000000000 0000000000000000',
      status: 0x05,
    },
    {
      name: 'Ex empty sparse set with all_processors',
      flags: '0100000000000000',
      set: '0000000000000000 0000000000000000',
      status: 0,
    },
    {
      name: 'Ex "all" format → InvalidParameter',
      flags: '0100000000000000',
      set: '0100000000000000 0000000000000000',
      status: 0x05,
    },
    {
      name: 'Ex bank mask 1 without a bank word → InvalidParameter',
      flags: '0000000000000000',
      set: '0000000000000000 0100000000000000',
      status: 0x05,
    },
    {
      name: 'Ex one bank word too many → InvalidParameter',
      flags: '0000000000000000',
      set: '0000000000000000 0100000000000000 0200000000000000 0100000000000000',
      status: 0x05,
    },
    {
      name: 'Ex VP 2 of 2 VPs (deviation: OpenHCL crashes) → InvalidParameter',
      flags: '0000000000000000',
      set: '0000000000000000 0100000000000000 0400000000000000',
      status: 0x05,
    },
    {
      name: 'Ex VP 64 (bank 1) of 2 VPs → InvalidParameter',
      flags: '0000000000000000',
      set: '0000000000000000 0200000000000000 0100000000000000',
      status: 0x05,
    },
    {
      name: 'Ex a VP that does not exist, with all_processors → Success',
      flags: '0100000000000000',
      set: '0000000000000000 0100000000000000 0400000000000000',
      status: 0,
    },
    {
      name: 'Ex use_target_vtl (bit 4) → InvalidParameter',
      flags: '1100000000000000',
      set: '0000000000000000 0100000000000000 0200000000000000',
      status: 0x05,
    },
    {
      name: 'Ex target_vtl bits (bits 5–6) → InvalidParameter',
      flags: '6100000000000000',
      set: '0000000000000000 0100000000000000 0200000000000000',
      status: 0x05,
    },
  ]
  it.each(exRows)('§13.17: $name', (row) => {
    const h = makeEngine(2)
    const input = bytes(`${SPACE} ${row.flags} ${row.set}`)
    expect(flushVirtualAddress(h.engine, 0, 0x13, input)).toBe(row.status)
    expect(flushVirtualAddress(h.engine, 0, 0x14, input)).toBe(row.status)
  })

  it('§13.17: a VP outside the partition in the non-Ex mask → InvalidParameter (deviation)', () => {
    const h = makeEngine(2)
    expect(flushVirtualAddress(h.engine, 0, 0x02, flushInput(0n, 0x4n))).toBe(0x05)
    expect(flushVirtualAddress(h.engine, 0, 0x02, flushInput(0n, 0x3n))).toBe(0)
    expect(flushVirtualAddress(h.engine, 0, 0x02, flushInput(1n, 0x4n))).toBe(0)
  })

  it('§13.17: the simple form with a rep count or a variable header → InvalidHypercallInput', () => {
    const h = makeEngine(2)
    const input = flushInput(1n, 0n)
    for (const extra of [{ repCount: 1 }, { variableHeaderSize: 1 }]) {
      const outcome = dispatchHypercall(h.engine, {
        vp: 0,
        control: control(0x02, extra),
        inputGpa: 0x1000n,
        input: new Uint8Array([...input, ...new Uint8Array(8)]),
      })
      expect(outcome).toMatchObject({ kind: 'completed', status: HvStatus.InvalidHypercallInput })
    }
  })

  it('succeeds and records the VTL0 lock holders for a VTL0 caller; a VTL1 flush waits on no VTL0 lock (§13.15)', () => {
    const h = makeEngine(3)
    bringUpBsp(h)
    h.engine.shared.setTlbLocked(1, 0, true)
    // The caller's own lock is never waited for.
    h.engine.shared.setTlbLocked(0, 0, true)
    expect(flushVirtualAddress(h.engine, 0, 0x02, flushInput(1n, 0n))).toBe(HvStatus.Success)
    expect(h.engine.vp(0).tlbWait).toEqual([[1], undefined])
    h.engine.vp(0).tlbWait[0] = undefined
    enterVtl1(h)
    expect(flushVirtualAddress(h.engine, 0, 0x02, flushInput(1n, 0n))).toBe(HvStatus.Success)
    expect(h.engine.vp(0).tlbWait).toEqual([undefined, undefined])
  })
})

function ipi(vector: number, targetVtl: number, mask: bigint): Uint8Array {
  const out = new Uint8Array(16)
  const view = new DataView(out.buffer)
  view.setUint32(0, vector, true)
  view.setUint8(4, targetVtl)
  view.setBigUint64(8, mask, true)
  return out
}

describe('SendSyntheticClusterIpi(Ex) VTL rules (§13.10)', () => {
  function inVtl1(h: Harness): void {
    bringUpBsp(h)
    enterVtl1(h)
  }
  const rows = [
    { name: 'VTL1 to its own VTL → InvalidVtlState', setup: inVtl1, targetVtl: 0x00, status: 0x51 },
    {
      name: 'VTL1 to VTL1 explicitly → InvalidVtlState',
      setup: inVtl1,
      targetVtl: 0x11,
      status: 0x51,
    },
    { name: 'VTL0 to VTL1 → AccessDenied', setup: bringUpBsp, targetVtl: 0x11, status: 0x06 },
    { name: 'bad HvInputVtl → InvalidParameter', setup: bringUpBsp, targetVtl: 0x80, status: 0x05 },
    {
      name: 'vector 15 → InvalidParameter',
      setup: bringUpBsp,
      targetVtl: 0x00,
      status: 0x05,
      vector: 15,
    },
  ]
  it.each(rows)('$name', (row) => {
    const h = makeEngine(2)
    row.setup(h)
    const before = snapshotEngine(h.engine)
    expect(
      sendSyntheticClusterIpi(h.engine, 0, 0x0b, ipi(row.vector ?? 0x40, row.targetVtl, 0x2n))
    ).toBe(row.status)
    expect(snapshotEngine(h.engine)).toEqual(before)
  })

  // §13.17: dispatcher checks, then flags, target above the caller, own VTL1, vector — in order.
  const orderRows = [
    {
      name: 'reserved u16 non-zero (before a bad HvInputVtl) → InvalidParameter',
      setup: bringUpBsp,
      bytes: '40000000 80 00 0100 0200000000000000',
      status: 0x05,
    },
    {
      name: 'flags non-zero before target above the caller → InvalidParameter',
      setup: bringUpBsp,
      bytes: '40000000 11 01 0000 0200000000000000',
      status: 0x05,
    },
    {
      name: 'flags non-zero before own VTL1 → InvalidParameter',
      setup: inVtl1,
      bytes: '40000000 00 01 0000 0200000000000000',
      status: 0x05,
    },
    {
      name: 'target above the caller before a bad vector → AccessDenied',
      setup: bringUpBsp,
      bytes: '05000000 11 00 0000 0200000000000000',
      status: 0x06,
    },
    {
      name: 'own VTL1 before a bad vector → InvalidVtlState',
      setup: inVtl1,
      bytes: '00010000 00 00 0000 0200000000000000',
      status: 0x51,
    },
    {
      name: 'vector 256 → InvalidParameter',
      setup: bringUpBsp,
      bytes: '00010000 00 00 0000 0200000000000000',
      status: 0x05,
    },
    {
      name: 'vector 255 → Success',
      setup: bringUpBsp,
      bytes: 'ff000000 00 00 0000 0200000000000000',
      status: 0,
    },
  ]
  it.each(orderRows)('§13.17: $name', (row) => {
    const h = makeEngine(2)
    row.setup(h)
    expect(sendSyntheticClusterIpi(h.engine, 0, 0x0b, bytes(row.bytes))).toBe(row.status)
  })

  const exRows = [
    {
      name: 'the "all" format → InvalidParameter',
      set: '0100000000000000 0000000000000000',
      status: 0x05,
    },
    {
      name: 'bank words not matching the mask → InvalidParameter',
      set: '0000000000000000 0300000000000000 0200000000000000',
      status: 0x05,
    },
    {
      name: 'an empty set → Success, no effect',
      set: '0000000000000000 0000000000000000',
      status: 0,
    },
    {
      name: 'only VPs that do not exist → Success, no effect',
      set: '0000000000000000 0200000000000000 0100000000000000',
      status: 0,
    },
  ]
  it.each(exRows)('§13.17: Ex $name', (row) => {
    const h = makeEngine(2)
    bringUpBsp(h)
    const before = snapshotEngine(h.engine)
    expect(
      sendSyntheticClusterIpi(h.engine, 0, 0x15, bytes(`40000000 00 00 0000 ${row.set}`))
    ).toBe(row.status)
    expect(snapshotEngine(h.engine)).toEqual(before)
  })

  it('§13.17: a mask naming a missing VP delivers to the VPs that exist', () => {
    const h = makeEngine(2)
    bringUpBsp(h)
    expect(sendSyntheticClusterIpi(h.engine, 0, 0x0b, ipi(0x40, 0, 0x8000_0000_0000_0002n))).toBe(0)
    prepareEntry(h.engine, 1)
    expect(h.engine.vp(1).vtls[0].apic.highestRequested()).toBe(0x40)
  })

  it('VTL1 → VTL0 delivers to VTL0 of the targets and preempts nothing in VTL1', () => {
    const h = makeEngine(2)
    inVtl1(h)
    expect(sendSyntheticClusterIpi(h.engine, 0, 0x0b, ipi(0x40, 0x10, 0x3n))).toBe(0)
    expect(h.engine.vp(1).vtls[0].apic.highestRequested()).toBe(-1)
    prepareEntry(h.engine, 1)
    prepareEntry(h.engine, 0)
    expect(h.engine.vp(1).vtls[0].apic.highestRequested()).toBe(0x40)
    expect(h.engine.vp(0).vtls[0].apic.highestRequested()).toBe(0x40)
    expect(h.engine.vp(0).vtls[1].apic.highestRequested()).toBe(-1)
    expect(h.vpPort.wakes.at(-1)).toBe(1)
  })

  it('the Ex form through the dispatcher with a sparse set in the variable header', () => {
    const h = makeEngine(2)
    bringUpBsp(h)
    // vector 0x41, VTL current, format sparse, bank mask 1, bank 0 = VP 1.
    const page = bytes('41000000 00 00 0000 0000000000000000 0100000000000000 0200000000000000')
    const outcome = dispatchHypercall(h.engine, {
      vp: 0,
      control: control(0x15, { variableHeaderSize: 1 }),
      inputGpa: 0x1000n,
      input: page,
    })
    expect(outcome).toMatchObject({ kind: 'completed', status: 0 })
    expect(h.engine.shared.wakeReasons(1, 0)).toBe(WakeReason.Intcon)
    prepareEntry(h.engine, 1)
    expect(h.engine.vp(1).vtls[0].apic.highestRequested()).toBe(0x41)
  })
})
