import {
  PartitionField,
  PendingOperation,
  PlainSharedVsmState,
  VsmEngine,
  WakeReason,
  sharedVsmStateBytes,
} from '@vtl/core'
import { describe, expect, it } from 'vitest'
import { LockWord, lockWord, tryLockWord, unlockWord } from './atomic-lock.js'
import { AtomicSharedVsmState, atomicSharedVsmStateBytes } from './atomic-shared-state.js'
import { sharedVsmLayout } from './layout.js'
import { nextMessage, startTsWorker } from './worker-thread.js'
import type { StateTestInput, StateTestOutput } from './state-test-worker.js'

const WORKER = new URL('./state-test-worker.ts', import.meta.url)

async function onThreads(
  job: StateTestInput['job'],
  threads: number,
  iterations: number,
  buffer: SharedArrayBuffer
): Promise<StateTestOutput[]> {
  const barrier = new SharedArrayBuffer(4)
  const workers = Array.from({ length: threads }, (_, index) =>
    startTsWorker(WORKER, { job, index, threads, iterations, buffer, barrier })
  )
  try {
    return await Promise.all(workers.map((w) => nextMessage<StateTestOutput>(w)))
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
}

describe('lock words', () => {
  it('free → held → free; try fails while held; unlocking a free word throws', () => {
    const words = new Int32Array(new SharedArrayBuffer(8))
    lockWord(words, 1)
    expect(words[1]).toBe(LockWord.Held)
    expect(tryLockWord(words, 1)).toBe(false)
    unlockWord(words, 1)
    expect(words[1]).toBe(LockWord.Free)
    expect(tryLockWord(words, 1)).toBe(true)
    unlockWord(words, 1)
    expect(() => {
      unlockWord(words, 1)
    }).toThrow(/not held/)
    expect(words[0]).toBe(0)
  })
})

describe('AtomicSharedVsmState', () => {
  it("uses core's plain layout: a plain view of the same buffer reads the same state", () => {
    const layout = sharedVsmLayout()
    expect(layout.partitionLock).toBe(0)
    expect(atomicSharedVsmStateBytes(5)).toBe(sharedVsmStateBytes(5) + 5 * 2 * 4)
    const atomic = new AtomicSharedVsmState(5)
    const plain = new PlainSharedVsmState(5, atomic.buffer)
    atomic.setPartitionField(PartitionField.MbecEnabled, 1)
    atomic.setVtl1EnableCalled(4, true)
    atomic.compareExchangeStarted(4, false, true)
    atomic.setActiveVtl(4, 2)
    atomic.wake(4, 1, WakeReason.Intcon)
    atomic.setTlbLocked(4, 0, true)
    atomic.requestInterrupt(4, 1, 0xfe)
    atomic.setPendingContext(4, 0, PendingOperation.StartVp, new Uint8Array(224).fill(7))
    atomic.setIoIntercept(0x60, false, true)
    expect(plain.partitionField(PartitionField.MbecEnabled)).toBe(1)
    expect([plain.vtl1EnableCalled(4), plain.started(4), plain.activeVtl(4)]).toEqual([
      true,
      true,
      2,
    ])
    expect([plain.wakeReasons(4, 1), plain.wakeReasons(4, 0)]).toEqual([WakeReason.Intcon, 0])
    expect([plain.tlbLocked(4, 0), plain.tlbLocked(4, 1), plain.tlbLocked(3, 0)]).toEqual([
      true,
      false,
      false,
    ])
    const irr = new Uint32Array(8)
    plain.takeRequestedInterrupts(4, 1, irr)
    expect(irr[7]).toBe(1 << 30)
    expect(plain.pendingOperation(4, 0)).toBe(PendingOperation.StartVp)
    expect(plain.ioIntercept(0x60, false)).toBe(true)
    // And the other way round.
    plain.setVtl1EnableCalled(3, true)
    plain.wake(3, 0, WakeReason.Extint)
    plain.setTlbLocked(3, 1, true)
    expect([atomic.vtl1EnableCalled(3), atomic.wakeReasons(3, 0), atomic.tlbLocked(3, 1)]).toEqual([
      true,
      WakeReason.Extint,
      true,
    ])
    // TLB-lock releases are counted in the same word on both (§13.15).
    atomic.setTlbLocked(4, 0, false)
    atomic.setTlbLocked(4, 0, false)
    plain.setTlbLocked(3, 1, false)
    expect([plain.tlbReleases(4, 0), plain.tlbLocked(4, 0), atomic.tlbReleases(3, 1)]).toEqual([
      1,
      false,
      1,
    ])
    expect([atomic.tlbReleases(4, 1), plain.tlbReleases(3, 0)]).toEqual([0, 0])
  })

  it('rejects what it cannot share', () => {
    expect(() => new AtomicSharedVsmState(0)).toThrow(/positive/)
    expect(() => new AtomicSharedVsmState(2, new SharedArrayBuffer(64))).toThrow(/needs/)
    const buffer = new ArrayBuffer(atomicSharedVsmStateBytes(1)) as unknown as SharedArrayBuffer
    expect(() => new AtomicSharedVsmState(1, buffer)).toThrow(/SharedArrayBuffer/)
    expect(() => new AtomicSharedVsmState(1).started(1)).toThrow(/outside/)
  })

  it('reports re-entry and unlocking a lock it does not hold', () => {
    const s = new AtomicSharedVsmState(2)
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
    s.unlockVp(0)
    s.unlockVp(1)
    // A second instance (another thread's view) sees the lock word taken.
    const other = new AtomicSharedVsmState(2, s.buffer)
    s.lockPartition()
    expect(() => {
      other.unlockPartition()
    }).toThrow(/not held/)
    s.unlockPartition()
  })

  it('started is a compare-exchange; slots are last-writer-wins; wake is fetch-or then swap', () => {
    const s = new AtomicSharedVsmState(2)
    expect(s.compareExchangeStarted(1, false, true)).toBe(true)
    expect(s.compareExchangeStarted(1, false, true)).toBe(false)
    expect(s.compareExchangeStarted(1, true, false)).toBe(true)
    const into = new Uint8Array(224)
    expect(s.takePendingContext(1, 1, into)).toBe(PendingOperation.None)
    s.setPendingContext(1, 1, PendingOperation.EnableVpVtl, new Uint8Array(224).fill(1))
    s.setPendingContext(1, 1, PendingOperation.StartVp, new Uint8Array(224).fill(2))
    expect(s.pendingOperation(1, 1)).toBe(PendingOperation.StartVp)
    expect(s.takePendingContext(1, 1, into)).toBe(PendingOperation.StartVp)
    expect(into.every((b) => b === 2)).toBe(true)
    expect(s.pendingOperation(1, 1)).toBe(PendingOperation.None)
    expect(s.wake(1, 1, WakeReason.HvStartEnableVtlVp)).toBe(true)
    expect(s.wake(1, 1, WakeReason.HvStartEnableVtlVp)).toBe(false)
    expect(s.wake(1, 1, WakeReason.Intcon | WakeReason.HvStartEnableVtlVp)).toBe(true)
    expect(s.takeWakeReasons(1, 1)).toBe(0xc)
    expect(s.takeWakeReasons(1, 1)).toBe(0)
    expect(s.requestInterrupt(0, 0, 0x41)).toBe(true)
    expect(s.requestInterrupt(0, 0, 0x41)).toBe(false)
    const irr = new Uint32Array(8)
    s.takeRequestedInterrupts(0, 0, irr)
    expect(irr[2]).toBe(2)
    s.setTlbLocked(0, 1, true)
    s.setTlbLocked(0, 0, true)
    s.setTlbLocked(0, 1, false)
    expect([s.tlbLocked(0, 0), s.tlbLocked(0, 1)]).toEqual([true, false])
  })

  it('two engines attach to one initialised state', () => {
    const shared = new AtomicSharedVsmState(2)
    const ports = {
      hypervisor: { hypercall: () => ({ result: 0n }) },
      vp: {
        writeVtlRegisters: () => 0 as const,
        wakeVp: () => undefined,
        injectException: () => undefined,
      },
      protection: {
        changeDefaultVtlProtections: () => 0 as const,
        changeVtlProtections: () => 0 as const,
        changeHostVisibility: () => ({ status: 0 as const, processed: 0 }),
        queryHostVisibility: () => ({ status: 0 as const, shared: [] }),
      },
    }
    const first = new VsmEngine({ vpCount: 2, ports, shared })
    const view = new AtomicSharedVsmState(2, shared.buffer)
    const second = new VsmEngine({ vpCount: 2, ports, shared: view, initializeShared: false })
    expect(second.guestVsmState).toBe(first.guestVsmState)
    expect(view.started(0)).toBe(true)
  })
})

describe('AtomicSharedVsmState across threads', () => {
  it('the partition lock and a VP lock exclude each other’s holders', async () => {
    const state = new AtomicSharedVsmState(2)
    const iterations = 20_000
    await onThreads('locks', 2, iterations, state.buffer)
    expect(state.partitionField(PartitionField.DefaultVtl0Protections)).toBe(2 * iterations)
    expect(state.activeVtl(1)).toBe(2 * iterations)
  }, 30_000)

  it('a context slot holds one writer’s whole record: last writer wins, never torn', async () => {
    const state = new AtomicSharedVsmState(2)
    const out = await onThreads('slots', 2, 5_000, state.buffer)
    expect(out.reduce((n, o) => n + o.taken, 0)).toBeGreaterThan(0)
    expect(out.map((o) => o.torn)).toEqual([0, 0])
  }, 30_000)

  it('wake bits set concurrently are each new once and taken exactly once', async () => {
    const state = new AtomicSharedVsmState(2)
    const out = await onThreads('wake', 2, 200, state.buffer)
    expect(out.reduce((n, o) => n + o.newBits, 0)).toBe(32)
    const words = [...out.flatMap((o) => o.takenWords), state.takeWakeReasons(0, 1)]
    let union = 0
    let bits = 0
    for (const word of words) {
      union |= word
      for (let w = word >>> 0; w !== 0; w &= w - 1) bits++
    }
    expect(union >>> 0).toBe(0xffff_ffff)
    expect(bits).toBe(32)
  }, 30_000)
})
