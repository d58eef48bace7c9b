import { VtlError } from '../errors/vtl-error.js'
import type { GuestVtl } from '../hv/vtl.js'

/** `GuestVsmState` (vsm-on-tdx.md §2.1) as a number, so that it fits a shared word. */
export const GuestVsmState = {
  NotPlatformSupported: 0,
  NotGuestEnabled: 1,
  Enabled: 2,
} as const
export type GuestVsmState = (typeof GuestVsmState)[keyof typeof GuestVsmState]

/**
 * The partition-wide words guarded by the `guest_vsm` lock: `GuestVsmState`, the `CvmVtl1State`
 * fields, the protector's "VTL1 protections enabled" flag and the current default VTL0 mask.
 */
export const PartitionField = {
  GuestVsmState: 0,
  EnabledOnAnyVp: 1,
  MbecEnabled: 2,
  /** Always 0 on CVMs (§2.1); kept so that `validateVtlGpaFlags` gets the real value. */
  ShadowSupervisorStackEnabled: 3,
  ZeroMemoryOnReset: 4,
  DenyLowerVtlStartup: 5,
  Vtl1ProtectionsEnabled: 6,
  DefaultVtl0Protections: 7,
  /**
   * 1 once the hypervisor accepted EnablePartitionVtl. Lets a retry after a rolled-back VTL1
   * permission sweep skip the second forward (see enable-partition-vtl.ts).
   */
  HostPartitionVtlEnabled: 8,
} as const
export type PartitionField = (typeof PartitionField)[keyof typeof PartitionField]
const PARTITION_FIELD_COUNT = 9

/** What a queued initial context is for (`InitialVpContextOperation`); 0 means the slot is empty. */
export const PendingOperation = { None: 0, StartVp: 1, EnableVpVtl: 2 } as const
export type PendingOperation = (typeof PendingOperation)[keyof typeof PendingOperation]

/** `WakeReason` bits (§2.4); each VTL has its own 32-bit word. */
export const WakeReason = {
  Extint: 1 << 0,
  MessageQueues: 1 << 1,
  HvStartEnableVtlVp: 1 << 2,
  Intcon: 1 << 3,
  UpdateProxyIrrFilter: 1 << 4,
} as const

/** Size of one queued `InitialVpContextX64` record. */
export const INITIAL_CONTEXT_SIZE = 224

/** `active_vtl[vp]` while the VP runs in the paravisor (§6.4 step 6). */
export const ACTIVE_VTL_PARAVISOR = 2

/**
 * The VSM state that OpenHCL shares between VP threads (§7.5): the partition lock and the words it
 * guards, and per VP the enable flag (with its mutex), the started flag, one pending-context slot
 * per VTL, the wake words, the published active VTL and the TLB locks. Everything is fixed-size and
 * numeric and every cross-thread step is an explicit lock/unlock, compare-exchange, fetch-or or
 * swap, so a SharedArrayBuffer + Atomics implementation can replace the plain one without changing
 * the engine. Everything else belongs to the VP object and only its own thread touches it.
 */
export interface SharedVsmState {
  readonly vpCount: number

  /** The `guest_vsm` lock. The engine never holds it across a return to the guest. */
  lockPartition(): void
  unlockPartition(): void
  partitionField(field: PartitionField): number
  setPartitionField(field: PartitionField, value: number): void

  /** The target VP's `vtl1_enable_called` mutex. */
  lockVp(vp: number): void
  unlockVp(vp: number): void
  vtl1EnableCalled(vp: number): boolean
  setVtl1EnableCalled(vp: number, value: boolean): void

  started(vp: number): boolean
  /** `started.compare_exchange(expected, value)`: true when the swap happened. */
  compareExchangeStarted(vp: number, expected: boolean, value: boolean): boolean

  /** `hv_start_enable_vtl_vp[vtl] = Some(...)`: overwrites a pending one (last writer wins, §13.8). */
  setPendingContext(
    vp: number,
    vtl: GuestVtl,
    operation: PendingOperation,
    context: Uint8Array
  ): void
  /** `take()`: copies the record into `into` (224 bytes) and empties the slot. */
  takePendingContext(vp: number, vtl: GuestVtl, into: Uint8Array): PendingOperation
  pendingOperation(vp: number, vtl: GuestVtl): PendingOperation

  /** `wake(vtl, reasons)`: fetch-or; true when some bit was newly set (the VP must be kicked). */
  wake(vp: number, vtl: GuestVtl, reasons: number): boolean
  /** Swap one VTL's wake word with 0 and return what it held. */
  takeWakeReasons(vp: number, vtl: GuestVtl): number
  wakeReasons(vp: number, vtl: GuestVtl): number
  /** Whether either VTL's wake word is non-zero (the VP loop's check before every entry). */
  anyWake(vp: number): boolean

  /** `active_vtl[vp]`: 0 or 1 while that VTL runs, 2 while the paravisor runs. */
  activeVtl(vp: number): number
  setActiveVtl(vp: number, vtl: number): void

  /** Whether VTL1 on `vp` holds a lock on `vtl`'s TLB (`VsmVpSecureConfigVtl0.tlb_locked`). */
  tlbLocked(vp: number, vtl: GuestVtl): boolean
  /** Locks or releases it; a release of a held lock also counts one in `tlbReleases`. */
  setTlbLocked(vp: number, vtl: GuestVtl, locked: boolean): void
  /**
   * How many times `vp` released `vtl`'s TLB lock (modulo 2^`TLB_RELEASE_BITS`): a waiter that
   * recorded the count is unblocked by any release since, even if the VP locked it again.
   */
  tlbReleases(vp: number, vtl: GuestVtl): number

  /**
   * Request `vector` in `vtl`'s LAPIC of `vp` from another VP's thread (an IPI): fetch-or into a
   * 256-bit per-VP, per-VTL word array, like OpenHCL's shared `LocalApicSet` IRR. True when the
   * bit was newly set. The target merges the requests into its own LAPIC (`prepareEntry`).
   */
  requestInterrupt(vp: number, vtl: GuestVtl, vector: number): boolean
  /** Swap the VTL's requested-vector words with 0, OR-ing them into `into` (8 × u32). */
  takeRequestedInterrupts(vp: number, vtl: GuestVtl, into: Uint32Array): void

  /** `io_read_intercepts` / `io_write_intercepts` (65,536-bit bitmaps, under the partition lock). */
  ioIntercept(port: number, write: boolean): boolean
  setIoIntercept(port: number, write: boolean, value: boolean): void
}

// Per-VP words: lock, enable flag, started, active VTL, wake VTL0, wake VTL1, TLB locks, pending ops.
const VP_LOCK = 0
const VP_ENABLE_CALLED = 1
const VP_STARTED = 2
const VP_ACTIVE_VTL = 3
const VP_WAKE0 = 4
/** Bit `vtl`: locked; bits 8..19 and 20..31: the VTL0 and VTL1 release counts. */
const VP_TLB_LOCKED = 6
const VP_PENDING0 = 7
/** 2 × 8 words of requested vectors (VTL0 then VTL1). */
const VP_IRR0 = 9
const VP_WORDS = 25
const HEADER_WORDS = 16
const IO_BITMAP_BYTES = 65536 / 8

/** Width of each TLB-lock release count, and where it sits in the lock word, per VTL. */
export const TLB_RELEASE_BITS = 12
export const TLB_RELEASE_SHIFT: readonly [number, number] = [8, 20]

/** The lock word after `vtl`'s lock is released: its bit cleared, its release count plus one. */
export function releasedTlbWord(word: number, vtl: GuestVtl): number {
  const shift = TLB_RELEASE_SHIFT[vtl]
  const mask = ((1 << TLB_RELEASE_BITS) - 1) << shift
  const count = (((word & mask) >>> shift) + 1) & ((1 << TLB_RELEASE_BITS) - 1)
  return ((word & ~mask & ~(1 << vtl)) | (count << shift)) >>> 0
}

/** `vtl`'s release count in a lock word. */
export function tlbReleaseCount(word: number, vtl: GuestVtl): number {
  return (word >>> TLB_RELEASE_SHIFT[vtl]) & ((1 << TLB_RELEASE_BITS) - 1)
}

/** Bytes a `PlainSharedVsmState` for `vpCount` VPs needs (the same layout an Atomics one would use). */
export function sharedVsmStateBytes(vpCount: number): number {
  return (
    (HEADER_WORDS + vpCount * VP_WORDS) * 4 +
    vpCount * 2 * INITIAL_CONTEXT_SIZE +
    2 * IO_BITMAP_BYTES
  )
}

/**
 * Single-threaded `SharedVsmState` over one ArrayBuffer laid out as the shared version would be.
 * Its locks only detect misuse (re-entry or unlocking an unlocked lock): nothing can contend.
 */
export class PlainSharedVsmState implements SharedVsmState {
  readonly vpCount: number
  readonly buffer: ArrayBufferLike
  private readonly words: Int32Array
  private readonly contexts: Uint8Array
  private readonly io: Uint8Array

  /** `buffer` may be a SharedArrayBuffer: the layout is the one an Atomics implementation uses. */
  constructor(vpCount: number, buffer?: ArrayBufferLike) {
    if (!Number.isInteger(vpCount) || vpCount < 1) {
      throw new VtlError('E_FIELD_RANGE', `vpCount must be a positive integer, got ${vpCount}`, {
        field: 'vpCount',
      })
    }
    this.vpCount = vpCount
    const bytes = sharedVsmStateBytes(vpCount)
    this.buffer = buffer ?? new ArrayBuffer(bytes)
    if (this.buffer.byteLength < bytes) {
      throw new VtlError('E_DECODE_LENGTH', `shared state needs ${bytes} bytes`, {
        field: 'buffer',
      })
    }
    const wordCount = HEADER_WORDS + vpCount * VP_WORDS
    this.words = new Int32Array(this.buffer, 0, wordCount)
    this.contexts = new Uint8Array(this.buffer, wordCount * 4, vpCount * 2 * INITIAL_CONTEXT_SIZE)
    this.io = new Uint8Array(
      this.buffer,
      wordCount * 4 + vpCount * 2 * INITIAL_CONTEXT_SIZE,
      2 * IO_BITMAP_BYTES
    )
  }

  private vpWord(vp: number, word: number): number {
    if (vp < 0 || vp >= this.vpCount) vpOutside(vp, this.vpCount)
    return HEADER_WORDS + vp * VP_WORDS + word
  }

  private acquire(index: number, what: string): void {
    if (this.words[index] !== 0) throw new VtlError('E_INVARIANT', `${what} is already held`)
    this.words[index] = 1
  }

  private release(index: number, what: string): void {
    if (this.words[index] !== 1) throw new VtlError('E_INVARIANT', `${what} is not held`)
    this.words[index] = 0
  }

  lockPartition(): void {
    this.acquire(0, 'the partition lock')
  }
  unlockPartition(): void {
    this.release(0, 'the partition lock')
  }
  partitionField(field: PartitionField): number {
    return this.words[1 + field] ?? 0
  }
  setPartitionField(field: PartitionField, value: number): void {
    if (field >= PARTITION_FIELD_COUNT) throw new VtlError('E_INVARIANT', `field ${field}`)
    this.words[1 + field] = value
  }

  lockVp(vp: number): void {
    this.acquire(this.vpWord(vp, VP_LOCK), `VP ${vp}'s enable lock`)
  }
  unlockVp(vp: number): void {
    this.release(this.vpWord(vp, VP_LOCK), `VP ${vp}'s enable lock`)
  }
  vtl1EnableCalled(vp: number): boolean {
    return this.words[this.vpWord(vp, VP_ENABLE_CALLED)] === 1
  }
  setVtl1EnableCalled(vp: number, value: boolean): void {
    this.words[this.vpWord(vp, VP_ENABLE_CALLED)] = value ? 1 : 0
  }

  started(vp: number): boolean {
    return this.words[this.vpWord(vp, VP_STARTED)] === 1
  }
  compareExchangeStarted(vp: number, expected: boolean, value: boolean): boolean {
    const index = this.vpWord(vp, VP_STARTED)
    if ((this.words[index] === 1) !== expected) return false
    this.words[index] = value ? 1 : 0
    return true
  }

  setPendingContext(
    vp: number,
    vtl: GuestVtl,
    operation: PendingOperation,
    context: Uint8Array
  ): void {
    if (context.length !== INITIAL_CONTEXT_SIZE) {
      throw new VtlError('E_DECODE_LENGTH', `a context record is ${INITIAL_CONTEXT_SIZE} bytes`)
    }
    this.contexts.set(context, (vp * 2 + vtl) * INITIAL_CONTEXT_SIZE)
    this.words[this.vpWord(vp, VP_PENDING0 + vtl)] = operation
  }
  takePendingContext(vp: number, vtl: GuestVtl, into: Uint8Array): PendingOperation {
    const index = this.vpWord(vp, VP_PENDING0 + vtl)
    const operation = (this.words[index] ?? 0) as PendingOperation
    if (operation === PendingOperation.None) return operation
    const start = (vp * 2 + vtl) * INITIAL_CONTEXT_SIZE
    into.set(this.contexts.subarray(start, start + INITIAL_CONTEXT_SIZE))
    this.words[index] = PendingOperation.None
    return operation
  }
  pendingOperation(vp: number, vtl: GuestVtl): PendingOperation {
    return (this.words[this.vpWord(vp, VP_PENDING0 + vtl)] ?? 0) as PendingOperation
  }

  wake(vp: number, vtl: GuestVtl, reasons: number): boolean {
    const index = this.vpWord(vp, VP_WAKE0 + vtl)
    const old = this.words[index] ?? 0
    this.words[index] = old | reasons
    return (~old & reasons) !== 0
  }
  takeWakeReasons(vp: number, vtl: GuestVtl): number {
    const index = this.vpWord(vp, VP_WAKE0 + vtl)
    const old = this.words[index] ?? 0
    this.words[index] = 0
    return old >>> 0
  }
  wakeReasons(vp: number, vtl: GuestVtl): number {
    return (this.words[this.vpWord(vp, VP_WAKE0 + vtl)] ?? 0) >>> 0
  }
  anyWake(vp: number): boolean {
    const index = this.vpWord(vp, VP_WAKE0)
    return ((this.words[index] ?? 0) | (this.words[index + 1] ?? 0)) !== 0
  }

  activeVtl(vp: number): number {
    return this.words[this.vpWord(vp, VP_ACTIVE_VTL)] ?? 0
  }
  setActiveVtl(vp: number, vtl: number): void {
    this.words[this.vpWord(vp, VP_ACTIVE_VTL)] = vtl
  }

  tlbLocked(vp: number, vtl: GuestVtl): boolean {
    return ((this.words[this.vpWord(vp, VP_TLB_LOCKED)] ?? 0) & (1 << vtl)) !== 0
  }
  setTlbLocked(vp: number, vtl: GuestVtl, locked: boolean): void {
    const index = this.vpWord(vp, VP_TLB_LOCKED)
    const old = this.words[index] ?? 0
    if (locked) this.words[index] = old | (1 << vtl)
    else if ((old & (1 << vtl)) !== 0) this.words[index] = releasedTlbWord(old, vtl)
  }
  tlbReleases(vp: number, vtl: GuestVtl): number {
    return tlbReleaseCount(this.words[this.vpWord(vp, VP_TLB_LOCKED)] ?? 0, vtl)
  }

  requestInterrupt(vp: number, vtl: GuestVtl, vector: number): boolean {
    const index = this.vpWord(vp, VP_IRR0 + vtl * 8 + ((vector & 0xff) >>> 5))
    const bit = 1 << (vector & 31)
    const old = this.words[index] ?? 0
    this.words[index] = old | bit
    return (old & bit) === 0
  }
  takeRequestedInterrupts(vp: number, vtl: GuestVtl, into: Uint32Array): void {
    const base = this.vpWord(vp, VP_IRR0 + vtl * 8)
    for (let i = 0; i < 8; i++) {
      const value = this.words[base + i] ?? 0
      if (value === 0) continue
      this.words[base + i] = 0
      into[i] = ((into[i] ?? 0) | value) >>> 0
    }
  }

  ioIntercept(port: number, write: boolean): boolean {
    const bit = (write ? 65536 : 0) + (port & 0xffff)
    return ((this.io[bit >>> 3] ?? 0) & (1 << (bit & 7))) !== 0
  }
  setIoIntercept(port: number, write: boolean, value: boolean): void {
    const bit = (write ? 65536 : 0) + (port & 0xffff)
    const old = this.io[bit >>> 3] ?? 0
    this.io[bit >>> 3] = value ? old | (1 << (bit & 7)) : old & ~(1 << (bit & 7))
  }
}

/** The throw of `vpWord`, built apart so that the lookup stays small enough to inline. */
function vpOutside(vp: number, vpCount: number): never {
  throw new VtlError('E_INVARIANT', `VP ${vp} outside 0..${vpCount - 1}`, { field: 'vp' })
}
