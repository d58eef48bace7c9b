import { describe, expect, it } from 'vitest'
import { SINT_MASKED, VsmVp } from './vp.js'

// The public shape of a VP's per-VTL state (`VtlState`, `VtlSynic` and `VtlApic` are exported):
// spread, structuredClone, Object.keys and JSON must see exactly these fields, in this order.
const VTL_STATE_KEYS = [
  'registers',
  'vpAssistPage',
  'hypercallMsr',
  'control',
  'synic',
  'overlayPrivate',
  'apic',
  'interruptShadow',
]
const SYNIC_KEYS = ['sint', 'scontrol', 'simp', 'siefp', 'vina', 'slotBusy', 'message']
const APIC_KEYS = ['irr', 'isr', 'tpr', 'nmiPending', 'activity']

const bigints = (_key: string, value: unknown): unknown =>
  typeof value === 'bigint' ? `${value.toString()}n` : value

function freshVp(): VsmVp {
  return new VsmVp(1)
}

function touchedVp(): VsmVp {
  const vp = new VsmVp(0)
  const state = vp.vtls[0]
  state.synic.sint[3] = 0x31n
  state.synic.slotBusy[3] = true
  state.synic.message[3] = new Uint8Array(256).fill(7)
  state.apic.request(0x52)
  state.apic.request(0x31)
  expect(state.apic.accept()).toBe(0x52)
  return vp
}

describe('VsmVp per-VTL state shape', () => {
  for (const [name, make] of [
    ['fresh', freshVp],
    ['touched', touchedVp],
  ] as const) {
    describe(`a ${name} VP`, () => {
      it('Object.keys and spread list the plain fields only', () => {
        for (const state of make().vtls) {
          expect(Object.keys(state)).toEqual(VTL_STATE_KEYS)
          expect(Object.keys(state.synic)).toEqual(SYNIC_KEYS)
          expect(Object.keys({ ...state.synic })).toEqual(SYNIC_KEYS)
          expect(Object.keys(state.apic)).toEqual(APIC_KEYS)
          // eslint-disable-next-line @typescript-eslint/no-misused-spread -- what a spread copies is the point
          expect(Object.keys({ ...state.apic })).toEqual(APIC_KEYS)
        }
      })

      it('structuredClone copies every field, each vector set with its own 32-byte buffer', () => {
        const vp = make()
        for (const state of vp.vtls) {
          const clone = structuredClone(state)
          expect(Object.keys(clone)).toEqual(VTL_STATE_KEYS)
          expect(Object.keys(clone.synic)).toEqual(SYNIC_KEYS)
          expect(Object.keys(clone.apic)).toEqual(APIC_KEYS)
          expect(clone.synic).toEqual(state.synic)
          expect(clone.apic.irr.buffer.byteLength).toBe(32)
          expect(clone.apic.isr.buffer.byteLength).toBe(32)
          expect(state.apic.irr.buffer.byteLength).toBe(32)
          expect(state.apic.isr.buffer.byteLength).toBe(32)
          expect([...clone.apic.irr]).toEqual([...state.apic.irr])
          expect([...clone.apic.isr]).toEqual([...state.apic.isr])
        }
        const clone = structuredClone(vp.vtls[0])
        if (name === 'touched') {
          expect(clone.synic.sint[3]).toBe(0x31n)
          expect(clone.synic.slotBusy[3]).toBe(true)
          expect(clone.synic.message[3]).toEqual(new Uint8Array(256).fill(7))
          expect(clone.apic.irr[1]).toBe(1 << 17)
          expect(clone.apic.isr[2]).toBe(1 << 18)
        } else {
          expect(clone.synic.sint).toEqual(new Array(16).fill(SINT_MASKED))
          expect(clone.synic.slotBusy).toEqual(new Array(16).fill(false))
          expect(clone.synic.message).toEqual(new Array(16).fill(undefined))
        }
      })

      it('JSON.stringify writes every SynIC and LAPIC field', () => {
        for (const state of make().vtls) {
          const json = JSON.parse(JSON.stringify(state, bigints)) as Record<string, object>
          expect(Object.keys(json)).toEqual(VTL_STATE_KEYS)
          // `message` is an array of undefined (null in JSON) or byte arrays.
          expect(Object.keys(json['synic'] ?? {})).toEqual(SYNIC_KEYS)
          expect(Object.keys(json['apic'] ?? {})).toEqual(APIC_KEYS)
          const synic = json['synic'] as { sint: string[]; slotBusy: boolean[]; message: unknown[] }
          expect(synic.sint).toHaveLength(16)
          expect(synic.slotBusy).toHaveLength(16)
          expect(synic.message).toHaveLength(16)
          const apic = json['apic'] as { irr: object; isr: object }
          expect(Object.keys(apic.irr)).toHaveLength(8)
          expect(Object.keys(apic.isr)).toHaveLength(8)
        }
      })
    })
  }

  it('an assigned SynIC array is the one read and copied', () => {
    const { synic, apic } = new VsmVp(0).vtls[1]
    const sint = new Array<bigint>(16).fill(0n)
    synic.sint = sint
    expect(synic.sint).toBe(sint)
    expect({ ...synic }.sint).toBe(sint)
    expect(apic.highestInService()).toBe(-1)
  })
})
