import { describe, expect, it } from 'vitest'
import { VtlEntryReason } from '../hv/vp-assist-page.js'
import { dispatchHypercall } from './dispatch.js'
import {
  assertInterrupt,
  combinePendingEvent,
  endOfInterrupt,
  handleCrossVtlInterrupts,
  prepareEntry,
} from './interrupts.js'
import { bringUpBsp, enterVtl1, makeEngine } from './testing/harness.js'

const IF = 0x202n

function activeBsp() {
  const h = makeEngine(1)
  bringUpBsp(h)
  const vp = h.engine.vp(0)
  vp.vtls[0].registers.rflags = IF
  vp.vtls[1].registers.rflags = IF
  return { h, vp }
}

describe('cross-VTL interrupts (§7.4, §13.2, §13.12)', () => {
  it('does nothing until VTL1 is Active on the VP', () => {
    const h = makeEngine(1)
    assertInterrupt(h.engine, 0, 1, 0x40)
    expect(handleCrossVtlInterrupts(h.engine, 0)).toBe(false)
    expect(h.engine.vp(0).exitVtl).toBe(0)
  })

  it('a VTL1 interrupt preempts VTL0 with entry reason INTERRUPT and is injected into VTL1', () => {
    const { h, vp } = activeBsp()
    assertInterrupt(h.engine, 0, 1, 0x40)
    const plan = prepareEntry(h.engine, 0)
    expect(plan).toMatchObject({ vtl: 1, vector: 0x40 })
    expect(vp.vtls[1].control.entryReason).toBe(VtlEntryReason.Interrupt)
    expect(h.engine.shared.activeVtl(0)).toBe(1)
  })

  it('preemption ignores VTL0 IF and VTL1 IF; an STI shadow in VTL1 blocks it', () => {
    const { h, vp } = activeBsp()
    vp.vtls[0].registers.rflags = 0x2n
    vp.vtls[1].interruptShadow = true
    assertInterrupt(h.engine, 0, 1, 0x40)
    expect(prepareEntry(h.engine, 0).vtl).toBe(0)
    vp.vtls[1].interruptShadow = false
    expect(prepareEntry(h.engine, 0).vtl).toBe(1)
  })

  it('§13.2: with VTL1 IF = 0 the vector stays pending and every VtlReturn bounces back to VTL1', () => {
    const { h, vp } = activeBsp()
    enterVtl1(h)
    vp.vtls[1].registers.rflags = 0x2n
    assertInterrupt(h.engine, 0, 1, 0x50)
    expect(prepareEntry(h.engine, 0)).toMatchObject({ vtl: 1, vector: -1 })
    for (let i = 0; i < 3; i++) {
      expect(dispatchHypercall(h.engine, { vp: 0, control: 0x12n, vtlInput: 1n }).kind).toBe(
        'vtl-switch'
      )
      expect(prepareEntry(h.engine, 0)).toMatchObject({ vtl: 1, vector: -1 })
      expect(vp.vtls[1].control.entryReason).toBe(VtlEntryReason.Interrupt)
    }
    vp.vtls[1].registers.rflags = IF
    expect(prepareEntry(h.engine, 0)).toMatchObject({ vtl: 1, vector: 0x50 })
  })

  it('§13.12: an in-service vector blocks same or lower priority until the EOI', () => {
    const { h, vp } = activeBsp()
    assertInterrupt(h.engine, 0, 1, 0x45)
    expect(prepareEntry(h.engine, 0).vector).toBe(0x45)
    dispatchHypercall(h.engine, { vp: 0, control: 0x12n, vtlInput: 1n })
    assertInterrupt(h.engine, 0, 1, 0x41)
    // Same priority class (4) as the one in service: no preemption of VTL0.
    expect(prepareEntry(h.engine, 0)).toMatchObject({ vtl: 0, vector: -1 })
    assertInterrupt(h.engine, 0, 1, 0x61)
    expect(prepareEntry(h.engine, 0)).toMatchObject({ vtl: 1, vector: 0x61 })
    expect(endOfInterrupt(h.engine, 0, 1)).toBe(0x61)
    expect(endOfInterrupt(h.engine, 0, 1)).toBe(0x45)
    expect(prepareEntry(h.engine, 0)).toMatchObject({ vtl: 1, vector: 0x41 })
    expect(endOfInterrupt(h.engine, 0, 1)).toBe(0x41)
    expect(endOfInterrupt(h.engine, 0, 1)).toBe(-1)
    expect(vp.vtls[1].apic.highestRequested()).toBe(-1)
  })

  it('VINA: a VTL0 interrupt while VTL1 runs asserts VINA once, on VTL1 own APIC', () => {
    const { h, vp } = activeBsp()
    enterVtl1(h)
    vp.vtls[1].synic.vina = 0x1_30n // vector 0x30, enabled
    assertInterrupt(h.engine, 0, 0, 0x80)
    expect(prepareEntry(h.engine, 0)).toMatchObject({ vtl: 1, vector: 0x30 })
    expect(vp.vtls[1].control.vinaStatus).toBe(1)
    // Not re-asserted while the status is set.
    assertInterrupt(h.engine, 0, 0, 0x81)
    expect(prepareEntry(h.engine, 0)).toMatchObject({ vtl: 1, vector: -1 })
    // The VTL0 vector is delivered once VTL0 runs again.
    dispatchHypercall(h.engine, { vp: 0, control: 0x12n, vtlInput: 1n })
    expect(prepareEntry(h.engine, 0)).toMatchObject({ vtl: 0, vector: 0x81 })
  })

  it('§13.17: VINA without auto_reset re-asserts only after VTL1 clears vina_status', () => {
    const { h, vp } = activeBsp()
    enterVtl1(h)
    vp.vtls[1].synic.vina = 0x1_30n // vector 0x30, enabled, no auto_reset
    assertInterrupt(h.engine, 0, 0, 0x80)
    expect(prepareEntry(h.engine, 0)).toMatchObject({ vtl: 1, vector: 0x30 })
    endOfInterrupt(h.engine, 0, 1)
    // Still asserted: another VTL0 interrupt does not raise VINA again.
    assertInterrupt(h.engine, 0, 0, 0x81)
    expect(prepareEntry(h.engine, 0)).toMatchObject({ vtl: 1, vector: -1 })
    expect(vp.vtls[1].control.vinaStatus).toBe(1)
    // VTL1 re-arms it by clearing the byte in its assist page.
    vp.vtls[1].control.vinaStatus = 0
    expect(prepareEntry(h.engine, 0)).toMatchObject({ vtl: 1, vector: 0x30 })
    expect(vp.vtls[1].control.vinaStatus).toBe(1)
  })

  it('VINA honours VTL0 IF and needs VINA enabled', () => {
    const { h, vp } = activeBsp()
    enterVtl1(h)
    vp.vtls[0].registers.rflags = 0x2n
    vp.vtls[1].synic.vina = 0x1_30n
    assertInterrupt(h.engine, 0, 0, 0x80)
    prepareEntry(h.engine, 0)
    expect(vp.vtls[1].control.vinaStatus).toBe(0)
    vp.vtls[0].registers.rflags = IF
    vp.vtls[1].synic.vina = 0x30n
    prepareEntry(h.engine, 0)
    expect(vp.vtls[1].control.vinaStatus).toBe(0)
  })

  it('PendingEvent0 is injected into VTL0 on its next entry', () => {
    const { h, vp } = activeBsp()
    enterVtl1(h)
    if (vp.vtl1 === undefined) throw new Error('VTL1 inactive')
    vp.vtl1.vtl0ExitPendingEvent = 1n | (1n << 8n) | (13n << 16n) | (0x10n << 32n)
    prepareEntry(h.engine, 0)
    expect(h.vpPort.exceptions).toEqual([])
    dispatchHypercall(h.engine, { vp: 0, control: 0x12n, vtlInput: 1n })
    prepareEntry(h.engine, 0)
    expect(h.vpPort.exceptions).toEqual([
      { vp: 0, vtl: 0, exception: { vector: 13, errorCode: 0x10 } },
    ])
    expect(vp.vtl1.vtl0ExitPendingEvent).toBeUndefined()
  })
})

describe('PendingEvent0 meets a pending VTL0 exception (#DF rules)', () => {
  const event = (vector: number, code?: number) =>
    1n | (code === undefined ? 0n : 1n << 8n) | (BigInt(vector) << 16n) | (BigInt(code ?? 0) << 32n)
  const rows = [
    {
      name: 'nothing pending: the event as queued',
      event: event(13, 4),
      pending: undefined,
      out: { vector: 13, errorCode: 4 },
    },
    {
      name: '#PF then #PF → #DF',
      event: event(14, 2),
      pending: 14,
      out: { vector: 8, errorCode: 0 },
    },
    {
      name: '#PF then #GP (contributory) → #DF',
      event: event(13, 0),
      pending: 14,
      out: { vector: 8, errorCode: 0 },
    },
    {
      name: '#GP then #GP → #DF',
      event: event(13, 0),
      pending: 13,
      out: { vector: 8, errorCode: 0 },
    },
    {
      name: '#GP then #PF → the #PF',
      event: event(14, 2),
      pending: 13,
      out: { vector: 14, errorCode: 2 },
    },
    {
      name: '#UD pending, #GP queued → the #GP',
      event: event(13, 0),
      pending: 6,
      out: { vector: 13, errorCode: 0 },
    },
    { name: '#DB queued over a #PF → the #DB', event: event(1), pending: 14, out: { vector: 1 } },
  ]
  it.each(rows)('$name', (row) => {
    expect(combinePendingEvent(row.event, row.pending)).toEqual(row.out)
  })

  it('prepareEntry passes the pending exception on', () => {
    const { h, vp } = activeBsp()
    enterVtl1(h)
    if (vp.vtl1 === undefined) throw new Error('VTL1 inactive')
    vp.vtl1.vtl0ExitPendingEvent = event(14, 2)
    dispatchHypercall(h.engine, { vp: 0, control: 0x12n, vtlInput: 1n })
    prepareEntry(h.engine, 0, { vtl0PendingException: 14 })
    expect(h.vpPort.exceptions).toEqual([{ vp: 0, vtl: 0, exception: { vector: 8, errorCode: 0 } }])
  })
})
