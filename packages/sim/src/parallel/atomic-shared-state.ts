import {
  PlainSharedVsmState,
  VtlError,
  releasedTlbWord,
  sharedVsmStateBytes,
  tlbReleaseCount,
  type GuestVtl,
  type PartitionField,
  type PendingOperation,
  type SharedVsmState,
} from '@vtl/core'
import { lockWord, unlockWord } from './atomic-lock.js'
import { sharedVsmLayout, type SharedVsmLayout } from './layout.js'

/**
 * Bytes an `AtomicSharedVsmState` for `vpCount` VPs needs: core's plain layout, then one mutex word
 * per pending-context slot (2 per VP).
 */
export function atomicSharedVsmStateBytes(vpCount: number): number {
  return sharedVsmStateBytes(vpCount) + vpCount * 2 * 4
}

/**
 * `SharedVsmState` over a SharedArrayBuffer, safe to use from several threads at once, each with
 * its own instance over the same buffer (hand the buffer to a worker and construct another one
 * there).
 *
 * The words are core's `PlainSharedVsmState` layout (`sharedVsmStateBytes`), so a plain state over
 * the same buffer reads the same values (tests and post-mortem checks do that):
 * - the partition `guest_vsm` lock and each VP's `vtl1_enable_called` mutex are futex mutexes
 *   (`atomic-lock.ts`: compare-exchange, `Atomics.wait`/`notify`);
 * - `started` is `Atomics.compareExchange`; wake words are `Atomics.or` / `Atomics.exchange`;
 *   the requested-vector words are `Atomics.or` / `Atomics.exchange`; `active_vtl`, the enable
 *   flag, the TLB-lock bitset (`Atomics.or` / `Atomics.and`) and the partition fields are read and
 *   written with `Atomics.load` / `Atomics.store`;
 * - each 224-byte pending-context record and its operation word are guarded by a slot mutex that
 *   lives after core's layout; under it the copy is core's own plain code;
 * - the IO-intercept bitmaps are plain bytes written under the partition lock (core's code); an
 *   unlocked read may see a bit one step late, as a racing VP in OpenHCL would.
 *
 * Misuse is reported as in the plain state: re-entering a lock this instance holds, or releasing
 * one it does not hold, throws `E_INVARIANT` (a real deadlock would otherwise hang the thread).
 */
export class AtomicSharedVsmState implements SharedVsmState {
  readonly vpCount: number
  readonly buffer: SharedArrayBuffer
  private readonly layout: SharedVsmLayout
  private readonly words: Int32Array
  /** Slot mutexes, `(vp * 2 + vtl)`. */
  private readonly slots: Int32Array
  /** Core's code for the lock-guarded bytes (context records, IO bitmaps). */
  private readonly plain: PlainSharedVsmState
  /** Locks this instance (this thread) holds: partition, then VPs, then slots. */
  private readonly held: Uint8Array

  constructor(vpCount: number, buffer?: SharedArrayBuffer) {
    if (!Number.isInteger(vpCount) || vpCount < 1) {
      throw new VtlError('E_FIELD_RANGE', `vpCount must be a positive integer, got ${vpCount}`, {
        field: 'vpCount',
      })
    }
    const bytes = atomicSharedVsmStateBytes(vpCount)
    this.buffer = buffer ?? new SharedArrayBuffer(bytes)
    if (!(this.buffer instanceof SharedArrayBuffer)) {
      throw new VtlError('E_INVALID_VALUE', 'the buffer must be a SharedArrayBuffer', {
        field: 'buffer',
      })
    }
    if (this.buffer.byteLength < bytes) {
      throw new VtlError('E_DECODE_LENGTH', `shared state needs ${bytes} bytes`, {
        field: 'buffer',
      })
    }
    this.plain = new PlainSharedVsmState(vpCount, this.buffer)
    this.vpCount = vpCount
    this.layout = sharedVsmLayout()
    const plainBytes = sharedVsmStateBytes(vpCount)
    this.words = new Int32Array(this.buffer, 0, plainBytes >>> 2)
    this.slots = new Int32Array(this.buffer, plainBytes, vpCount * 2)
    this.held = new Uint8Array(1 + vpCount + vpCount * 2)
  }

  private vpWord(vp: number, word: number): number {
    if (!Number.isInteger(vp) || vp < 0 || vp >= this.vpCount) {
      throw new VtlError('E_INVARIANT', `VP ${vp} outside 0..${this.vpCount - 1}`, { field: 'vp' })
    }
    return word + vp * this.layout.vpStride
  }

  private take(words: Int32Array, index: number, heldIndex: number, what: string): void {
    if (this.held[heldIndex] === 1) throw new VtlError('E_INVARIANT', `${what} is already held`)
    lockWord(words, index)
    this.held[heldIndex] = 1
  }

  private release(words: Int32Array, index: number, heldIndex: number, what: string): void {
    if (this.held[heldIndex] !== 1) throw new VtlError('E_INVARIANT', `${what} is not held`)
    this.held[heldIndex] = 0
    unlockWord(words, index)
  }

  lockPartition(): void {
    this.take(this.words, this.layout.partitionLock, 0, 'the partition lock')
  }
  unlockPartition(): void {
    this.release(this.words, this.layout.partitionLock, 0, 'the partition lock')
  }
  partitionField(field: PartitionField): number {
    const index = this.layout.fields[field]
    return index === undefined ? 0 : Atomics.load(this.words, index)
  }
  setPartitionField(field: PartitionField, value: number): void {
    const index = this.layout.fields[field]
    if (index === undefined) throw new VtlError('E_INVARIANT', `field ${field}`)
    Atomics.store(this.words, index, value)
  }

  lockVp(vp: number): void {
    this.take(this.words, this.vpWord(vp, this.layout.vpLock), 1 + vp, `VP ${vp}'s enable lock`)
  }
  unlockVp(vp: number): void {
    this.release(this.words, this.vpWord(vp, this.layout.vpLock), 1 + vp, `VP ${vp}'s enable lock`)
  }
  vtl1EnableCalled(vp: number): boolean {
    return Atomics.load(this.words, this.vpWord(vp, this.layout.enableCalled)) === 1
  }
  setVtl1EnableCalled(vp: number, value: boolean): void {
    Atomics.store(this.words, this.vpWord(vp, this.layout.enableCalled), value ? 1 : 0)
  }

  started(vp: number): boolean {
    return Atomics.load(this.words, this.vpWord(vp, this.layout.started)) === 1
  }
  compareExchangeStarted(vp: number, expected: boolean, value: boolean): boolean {
    const from = expected ? 1 : 0
    const index = this.vpWord(vp, this.layout.started)
    return Atomics.compareExchange(this.words, index, from, value ? 1 : 0) === from
  }

  private slot(vp: number, vtl: GuestVtl): [number, number] {
    this.vpWord(vp, 0)
    const index = vp * 2 + vtl
    return [index, 1 + this.vpCount + index]
  }

  setPendingContext(
    vp: number,
    vtl: GuestVtl,
    operation: PendingOperation,
    context: Uint8Array
  ): void {
    const [index, heldIndex] = this.slot(vp, vtl)
    this.take(this.slots, index, heldIndex, `VP ${vp}'s VTL${vtl} context slot`)
    try {
      this.plain.setPendingContext(vp, vtl, operation, context)
    } finally {
      this.release(this.slots, index, heldIndex, `VP ${vp}'s VTL${vtl} context slot`)
    }
  }
  takePendingContext(vp: number, vtl: GuestVtl, into: Uint8Array): PendingOperation {
    const [index, heldIndex] = this.slot(vp, vtl)
    this.take(this.slots, index, heldIndex, `VP ${vp}'s VTL${vtl} context slot`)
    try {
      return this.plain.takePendingContext(vp, vtl, into)
    } finally {
      this.release(this.slots, index, heldIndex, `VP ${vp}'s VTL${vtl} context slot`)
    }
  }
  pendingOperation(vp: number, vtl: GuestVtl): PendingOperation {
    const [index, heldIndex] = this.slot(vp, vtl)
    this.take(this.slots, index, heldIndex, `VP ${vp}'s VTL${vtl} context slot`)
    try {
      return this.plain.pendingOperation(vp, vtl)
    } finally {
      this.release(this.slots, index, heldIndex, `VP ${vp}'s VTL${vtl} context slot`)
    }
  }

  wake(vp: number, vtl: GuestVtl, reasons: number): boolean {
    const old = Atomics.or(this.words, this.vpWord(vp, this.layout.wake[vtl]), reasons)
    return (~old & reasons) !== 0
  }
  takeWakeReasons(vp: number, vtl: GuestVtl): number {
    const index = this.vpWord(vp, this.layout.wake[vtl])
    // Swapping 0 for 0 changes nothing; skipping the write keeps the line shared between cores.
    if (Atomics.load(this.words, index) === 0) return 0
    return Atomics.exchange(this.words, index, 0) >>> 0
  }
  wakeReasons(vp: number, vtl: GuestVtl): number {
    return Atomics.load(this.words, this.vpWord(vp, this.layout.wake[vtl])) >>> 0
  }
  anyWake(vp: number): boolean {
    const wake = this.layout.wake
    return (
      Atomics.load(this.words, this.vpWord(vp, wake[0])) !== 0 ||
      Atomics.load(this.words, this.vpWord(vp, wake[1])) !== 0
    )
  }

  activeVtl(vp: number): number {
    return Atomics.load(this.words, this.vpWord(vp, this.layout.activeVtl))
  }
  setActiveVtl(vp: number, vtl: number): void {
    Atomics.store(this.words, this.vpWord(vp, this.layout.activeVtl), vtl)
  }

  tlbLocked(vp: number, vtl: GuestVtl): boolean {
    const word = Atomics.load(this.words, this.vpWord(vp, this.layout.tlb))
    return (word & this.layout.tlbBit[vtl]) !== 0
  }
  setTlbLocked(vp: number, vtl: GuestVtl, locked: boolean): void {
    const index = this.vpWord(vp, this.layout.tlb)
    const bit = this.layout.tlbBit[vtl]
    if (locked) {
      Atomics.or(this.words, index, bit)
      return
    }
    // A release clears the bit and counts one, in one compare-exchange (only the VP itself
    // changes its lock word, so this loops only against nobody).
    for (;;) {
      const old = Atomics.load(this.words, index)
      if ((old & bit) === 0) return
      if (Atomics.compareExchange(this.words, index, old, releasedTlbWord(old, vtl) | 0) === old) {
        return
      }
    }
  }
  tlbReleases(vp: number, vtl: GuestVtl): number {
    return tlbReleaseCount(Atomics.load(this.words, this.vpWord(vp, this.layout.tlb)), vtl)
  }

  requestInterrupt(vp: number, vtl: GuestVtl, vector: number): boolean {
    const index = this.vpWord(vp, this.layout.irr[vtl] + ((vector & 0xff) >>> 5))
    const bit = 1 << (vector & 31)
    return (Atomics.or(this.words, index, bit) & bit) === 0
  }
  takeRequestedInterrupts(vp: number, vtl: GuestVtl, into: Uint32Array): void {
    const base = this.vpWord(vp, this.layout.irr[vtl])
    for (let i = 0; i < 8; i++) {
      if (Atomics.load(this.words, base + i) === 0) continue
      const value = Atomics.exchange(this.words, base + i, 0)
      into[i] = ((into[i] ?? 0) | value) >>> 0
    }
  }

  ioIntercept(port: number, write: boolean): boolean {
    return this.plain.ioIntercept(port, write)
  }
  setIoIntercept(port: number, write: boolean, value: boolean): void {
    this.plain.setIoIntercept(port, write, value)
  }
}
