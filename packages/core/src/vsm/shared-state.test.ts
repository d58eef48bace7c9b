import { describe, expect, it } from 'vitest'
import {
  PendingOperation,
  PlainSharedVsmState,
  sharedVsmStateBytes,
  TLB_RELEASE_BITS,
  WakeReason,
} from './shared-state.js'
import { VsmEngine } from './engine.js'
import { bringUpBsp, makeEngine } from './testing/harness.js'

describe('PlainSharedVsmState', () => {
  it('is laid out in one buffer a SharedArrayBuffer could replace', () => {
    expect(sharedVsmStateBytes(1)).toBe((16 + 25) * 4 + 2 * 224 + 2 * 8192)
    const buffer = new ArrayBuffer(sharedVsmStateBytes(2))
    const a = new PlainSharedVsmState(2, buffer)
    a.setVtl1EnableCalled(1, true)
    a.setPartitionField(2, 1)
    // A second view of the same bytes sees the same state (what another thread would see).
    const b = new PlainSharedVsmState(2, buffer)
    expect(b.vtl1EnableCalled(1)).toBe(true)
    expect(b.partitionField(2)).toBe(1)
    expect(() => new PlainSharedVsmState(2, new ArrayBuffer(16))).toThrow(/needs/)
    const sab = new PlainSharedVsmState(2, new SharedArrayBuffer(sharedVsmStateBytes(2)))
    sab.setVtl1EnableCalled(0, true)
    expect(sab.vtl1EnableCalled(0)).toBe(true)
    expect(() => new PlainSharedVsmState(0)).toThrow(/positive/)
  })

  it('locks detect re-entry and unlocking an unlocked lock', () => {
    const s = new PlainSharedVsmState(2)
    s.lockPartition()
    expect(() => {
      s.lockPartition()
    }).toThrow(/already held/)
    s.unlockPartition()
    expect(() => {
      s.unlockPartition()
    }).toThrow(/not held/)
    s.lockVp(1)
    s.lockVp(0)
    expect(() => {
      s.lockVp(1)
    }).toThrow(/already held/)
    expect(() => s.vtl1EnableCalled(2)).toThrow(/outside/)
  })

  it('started is a compare-exchange', () => {
    const s = new PlainSharedVsmState(1)
    expect(s.compareExchangeStarted(0, false, true)).toBe(true)
    expect(s.compareExchangeStarted(0, false, true)).toBe(false)
    expect(s.started(0)).toBe(true)
  })

  it('one pending context per VTL, last writer wins, take empties the slot', () => {
    const s = new PlainSharedVsmState(1)
    const into = new Uint8Array(224)
    expect(s.takePendingContext(0, 1, into)).toBe(PendingOperation.None)
    s.setPendingContext(0, 1, PendingOperation.EnableVpVtl, new Uint8Array(224).fill(1))
    s.setPendingContext(0, 1, PendingOperation.StartVp, new Uint8Array(224).fill(2))
    s.setPendingContext(0, 0, PendingOperation.StartVp, new Uint8Array(224).fill(3))
    expect(s.takePendingContext(0, 1, into)).toBe(PendingOperation.StartVp)
    expect(into.every((b) => b === 2)).toBe(true)
    expect(s.pendingOperation(0, 1)).toBe(PendingOperation.None)
    expect(s.takePendingContext(0, 0, into)).toBe(PendingOperation.StartVp)
    expect(into[0]).toBe(3)
    expect(() => {
      s.setPendingContext(0, 0, PendingOperation.StartVp, new Uint8Array(10))
    }).toThrow(/224/)
  })

  it('wake is a fetch-or that says whether a bit was new; take swaps the word to 0', () => {
    const s = new PlainSharedVsmState(1)
    expect(s.wake(0, 1, WakeReason.HvStartEnableVtlVp)).toBe(true)
    expect(s.wake(0, 1, WakeReason.HvStartEnableVtlVp)).toBe(false)
    expect(s.wake(0, 1, WakeReason.Intcon | WakeReason.HvStartEnableVtlVp)).toBe(true)
    expect(s.wakeReasons(0, 0)).toBe(0)
    expect(s.takeWakeReasons(0, 1)).toBe(0xc)
    expect(s.takeWakeReasons(0, 1)).toBe(0)
  })

  it('requested interrupts accumulate per VTL and are taken once', () => {
    const s = new PlainSharedVsmState(2)
    expect(s.requestInterrupt(1, 0, 0x40)).toBe(true)
    expect(s.requestInterrupt(1, 0, 0x40)).toBe(false)
    expect(s.requestInterrupt(1, 0, 0xff)).toBe(true)
    const irr = new Uint32Array(8)
    s.takeRequestedInterrupts(1, 1, irr)
    expect(Array.from(irr)).toEqual([0, 0, 0, 0, 0, 0, 0, 0])
    s.takeRequestedInterrupts(1, 0, irr)
    expect(irr[2]).toBe(1)
    expect(irr[7]).toBe(0x8000_0000)
    const again = new Uint32Array(8)
    s.takeRequestedInterrupts(1, 0, again)
    expect(again.every((w) => w === 0)).toBe(true)
  })

  it('TLB locks and IO intercept bits are independent per VTL / direction', () => {
    const s = new PlainSharedVsmState(2)
    s.setTlbLocked(1, 0, true)
    expect([s.tlbLocked(1, 0), s.tlbLocked(1, 1), s.tlbLocked(0, 0)]).toEqual([true, false, false])
    s.setTlbLocked(1, 0, false)
    expect(s.tlbLocked(1, 0)).toBe(false)
    s.setIoIntercept(0xffff, true, true)
    expect([s.ioIntercept(0xffff, true), s.ioIntercept(0xffff, false)]).toEqual([true, false])
  })

  it('counts each release of a held TLB lock, per VP and VTL, wrapping at 12 bits (§13.15)', () => {
    const s = new PlainSharedVsmState(2)
    expect(s.tlbReleases(1, 0)).toBe(0)
    s.setTlbLocked(1, 0, false) // not held: no release
    expect(s.tlbReleases(1, 0)).toBe(0)
    s.setTlbLocked(1, 0, true)
    s.setTlbLocked(1, 0, true)
    s.setTlbLocked(1, 0, false)
    s.setTlbLocked(1, 0, false)
    expect([s.tlbReleases(1, 0), s.tlbReleases(1, 1), s.tlbReleases(0, 0)]).toEqual([1, 0, 0])
    s.setTlbLocked(1, 1, true)
    for (let i = 0; i < 2 ** TLB_RELEASE_BITS; i++) {
      s.setTlbLocked(1, 0, true)
      s.setTlbLocked(1, 0, false)
    }
    expect([s.tlbReleases(1, 0), s.tlbLocked(1, 0), s.tlbLocked(1, 1)]).toEqual([1, false, true])
    s.setTlbLocked(1, 1, false)
    expect([s.tlbReleases(1, 1), s.tlbReleases(1, 0)]).toEqual([1, 1])
  })
})

describe('engines over one shared state', () => {
  it("a second engine attached without initialising sees the first one's partition state", () => {
    const h = makeEngine(2)
    bringUpBsp(h)
    const second = new VsmEngine({
      vpCount: 2,
      ports: h.engine.ports,
      shared: h.engine.shared,
      initializeShared: false,
    })
    expect(second.guestVsmState).toBe(2)
    expect(second.shared.vtl1EnableCalled(0)).toBe(true)
    expect(second.shared.started(0)).toBe(true)
  })
})
