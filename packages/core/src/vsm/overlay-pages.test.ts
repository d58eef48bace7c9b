import { describe, expect, it } from 'vitest'
import { HvMapGpaFlags } from '../hv/map-gpa-flags.js'
import { HvStatus } from '../hv/status.js'
import { moveOverlay, writeOverlayMsr, type OverlayKind } from './overlay-pages.js'
import { overlayTestbed } from './testing/harness.js'

// vsm-on-tdx.md §13.14: an overlay's new page is registered and locked before the old one is
// released; when registering fails, nothing changes (MSR, private copy, RAM, locks).

const RW = HvMapGpaFlags.Readable | HvMapGpaFlags.Writable

describe('moveOverlay', () => {
  it('registers the new page, then releases the old one', () => {
    const { engine, protection } = overlayTestbed()
    expect(moveOverlay(engine, 1, 0x50000n, 0x60000n, { check: RW })).toBe(true)
    expect(protection.calls).toEqual([
      `overlay vtl1 96 check ${RW} perms undefined`,
      'unoverlay vtl1 80',
    ])
  })

  it('releases nothing when the new page cannot be registered', () => {
    const { engine, protection } = overlayTestbed()
    protection.refused.add(0x66n)
    expect(moveOverlay(engine, 0, 0x50000n, 0x66000n, { check: RW })).toBe(false)
    expect(protection.calls).toEqual([`overlay vtl0 102 check ${RW} perms undefined`])
  })

  it('the same page is no move; unmapping only releases', () => {
    const { engine, protection } = overlayTestbed()
    expect(moveOverlay(engine, 0, 0x50000n, 0x50000n, { check: RW })).toBe(true)
    expect(protection.calls).toEqual([])
    expect(moveOverlay(engine, 0, 0x50000n, undefined, { check: RW })).toBe(true)
    expect(protection.calls).toEqual(['unoverlay vtl0 80'])
  })
})

describe('an overlay MSR write whose new page cannot be registered (§13.14)', () => {
  const cases: { kind: OverlayKind; status: HvStatus }[] = [
    { kind: 'assist', status: HvStatus.InvalidRegisterValue },
    { kind: 'simp', status: HvStatus.InvalidParameter },
    { kind: 'siefp', status: HvStatus.InvalidParameter },
  ]

  it.each(cases)('$kind mapped elsewhere: $status, nothing changes', ({ kind, status }) => {
    const { engine, vp, protection, ram, page } = overlayTestbed()
    const state = vp.vtls[0]
    expect(writeOverlayMsr(engine, vp, 0, kind, 0x50001n)).toBe(HvStatus.Success)
    page(0x50).fill(0x5a)
    // Unmapped once, then mapped again: the private copy exists and must survive the refusal.
    expect(writeOverlayMsr(engine, vp, 0, kind, 0x50000n)).toBe(HvStatus.Success)
    expect(writeOverlayMsr(engine, vp, 0, kind, 0x50001n)).toBe(HvStatus.Success)
    expect(state.overlayPrivate[kind]).toBeDefined()
    protection.refused.add(0x66n)
    protection.calls.length = 0
    const before = structuredClone(state)
    const ramBefore = ram.slice()
    expect(writeOverlayMsr(engine, vp, 0, kind, 0x66001n)).toBe(status)
    expect(state).toEqual(before)
    // Buffer.equals: toEqual walks 512 KiB element by element.
    expect(Buffer.from(ram).equals(ramBefore)).toBe(true)
    expect(protection.calls).toEqual([`overlay vtl0 102 check ${RW} perms undefined`])
  })

  it.each(cases)('$kind private: $status, nothing changes', ({ kind, status }) => {
    const { engine, vp, protection, ram } = overlayTestbed()
    const state = vp.vtls[1]
    state.overlayPrivate[kind] = new Uint8Array(4096).fill(0x33)
    protection.refused.add(0x66n)
    const before = structuredClone(state)
    expect(writeOverlayMsr(engine, vp, 1, kind, 0x66001n)).toBe(status)
    expect(state).toEqual(before)
    expect(ram.every((byte) => byte === 0)).toBe(true)
    expect(protection.calls).toEqual([`overlay vtl1 102 check ${RW} perms undefined`])
  })
})
