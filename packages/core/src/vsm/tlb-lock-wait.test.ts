import { describe, expect, it } from 'vitest'
import type { GuestVtl } from '../hv/vtl.js'
import { makeEngine } from './testing/harness.js'
import { haltForTlbUnlock, waitForTlbLocks } from './tlb-lock-wait.js'
import type { VsmEngine } from './engine.js'

// §13.15 (`tlb_lock.rs`): a VP halts before it enters a VTL until every VP recorded for that VTL
// has released its lock once since it was recorded; a holder that released and locked again no
// longer blocks. The record arrays are compacted in place, holders and release counts aligned.

function relock(engine: VsmEngine, vp: number, vtl: GuestVtl): void {
  engine.shared.setTlbLocked(vp, vtl, false)
  engine.shared.setTlbLocked(vp, vtl, true)
}

describe('haltForTlbUnlock', () => {
  it('keeps only the holders that have not released, with their recorded counts', () => {
    const { engine } = makeEngine(5)
    for (const vp of [1, 2, 3, 4]) engine.shared.setTlbLocked(vp, 0, true)
    // Different release counts at record time: alignment of the two arrays is observable.
    relock(engine, 3, 0)
    relock(engine, 3, 0)
    relock(engine, 4, 0)
    waitForTlbLocks(engine, 0, 0)
    const vp = engine.vp(0)
    const holders = vp.tlbWait[0]
    const releases = vp.tlbWaitReleases[0]
    expect(holders).toEqual([1, 2, 3, 4])
    expect(releases).toEqual([0, 0, 2, 1])

    engine.shared.setTlbLocked(2, 0, false)
    relock(engine, 4, 0)
    expect(haltForTlbUnlock(engine, vp)).toBe(true)
    expect(vp.tlbWait).toEqual([[1, 3], undefined])
    expect(vp.tlbWaitReleases).toEqual([[0, 2], undefined])
    // Compacted in place.
    expect(vp.tlbWait[0]).toBe(holders)
    expect(vp.tlbWaitReleases[0]).toBe(releases)

    // A new holder is appended with its count; a kept one is not recorded twice.
    engine.shared.setTlbLocked(2, 0, true)
    waitForTlbLocks(engine, 0, 0)
    expect(vp.tlbWait[0]).toEqual([1, 3, 2, 4])
    expect(vp.tlbWaitReleases[0]).toEqual([0, 2, 1, 2])

    relock(engine, 1, 0)
    engine.shared.setTlbLocked(4, 0, false)
    expect(haltForTlbUnlock(engine, vp)).toBe(true)
    expect(vp.tlbWait[0]).toEqual([3, 2])
    expect(vp.tlbWaitReleases[0]).toEqual([2, 1])

    engine.shared.setTlbLocked(2, 0, false)
    relock(engine, 3, 0)
    expect(haltForTlbUnlock(engine, vp)).toBe(false)
    expect(vp.tlbWait).toEqual([undefined, undefined])
    expect(vp.tlbWaitReleases).toEqual([undefined, undefined])
  })

  it('looks only at the VTL the VP enters next', () => {
    const { engine } = makeEngine(3)
    engine.shared.setTlbLocked(1, 1, true)
    waitForTlbLocks(engine, 0, 1)
    const vp = engine.vp(0)
    expect(vp.exitVtl).toBe(0)
    expect(haltForTlbUnlock(engine, vp)).toBe(false)
    expect(vp.tlbWait).toEqual([undefined, [1]])
    vp.exitVtl = 1
    expect(haltForTlbUnlock(engine, vp)).toBe(true)
    engine.shared.setTlbLocked(1, 1, false)
    expect(haltForTlbUnlock(engine, vp)).toBe(false)
    expect(vp.tlbWait).toEqual([undefined, undefined])
  })
})
