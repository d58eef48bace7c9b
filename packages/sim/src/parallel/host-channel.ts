import {
  HvStatus,
  VtlError,
  type GuestVtl,
  type HypervisorCallResult,
  type HypervisorPort,
  type ProtectionPort,
  type RepOutcome,
} from '@vtl/core'
import { lockWord, unlockWord } from './atomic-lock.js'

// Control words of the channel (Int32 indices).
const MUTEX = 0
const REQUEST = 1
const RESPONSE = 2
const OP = 3
const ARG0 = 4
const ARG1 = 5
const COUNT = 6
const STATUS = 7
const PROCESSED = 8
const EPOCH = 9
const CLOSED = 10
const PAGES = 11
const HEADER_BYTES = 64

/** GPNs one request carries (ModifyVtlProtectionMask's page-sized input holds at most 510). */
export const HOST_CHANNEL_MAX_GPNS = 1024
/** Bytes of a forwarded hypercall's input. */
export const HOST_CHANNEL_MAX_INPUT = 4096

const Op = {
  DefaultProtections: 1,
  VtlProtections: 2,
  HostVisibility: 3,
  QueryVisibility: 4,
  Hypercall: 5,
} as const

// The permission snapshot word of one page and VTL: version << 9 | valid << 8 | HvMapGpaFlags.
const VALID = 0x100
const VERSION_SHIFT = 9

/** One page's permissions as the snapshot publishes them. */
export interface PagePermission {
  /** How many acknowledged changes touched this page (and VTL) so far. */
  version: number
  /** HvMapGpaFlags, or undefined when the VTL has no access at all (no VALID attribute). */
  flags: number | undefined
}

export function decodePermission(word: number): PagePermission {
  return { version: permissionVersion(word), flags: permissionFlags(word) }
}

/** The version of a snapshot word (`decodePermission` without an object, for hot loops). */
export function permissionVersion(word: number): number {
  return word >>> VERSION_SHIFT
}

/** The HvMapGpaFlags of a snapshot word, or undefined when it has no VALID attribute. */
export function permissionFlags(word: number): number | undefined {
  return (word & VALID) === 0 ? undefined : word & 0xff
}

function layout(pages: number): { big: number; bytes: number; shared: number; snapshot: number } {
  const big = HEADER_BYTES
  const bytes = big + 8 * (2 + HOST_CHANNEL_MAX_GPNS)
  const shared = bytes + HOST_CHANNEL_MAX_INPUT
  const snapshot = shared + HOST_CHANNEL_MAX_GPNS
  return { big, bytes, shared, snapshot: snapshot + 2 * pages * 4 }
}

/**
 * The SharedArrayBuffer between worker threads and the host owner thread: a one-slot request
 * mailbox (a futex mutex serialises clients; request and response sequence words carry
 * `Atomics.wait`/`notify`), and the permission snapshot of GPNs `0..pages-1` for both VTLs that
 * the owner republishes before it answers a protection change.
 */
export class HostChannel {
  readonly buffer: SharedArrayBuffer
  readonly pages: number
  protected readonly words: Int32Array
  protected readonly big: BigInt64Array
  protected readonly input: Uint8Array
  protected readonly sharedBits: Uint8Array
  /** `[vtl * pages + gpn]`. */
  protected readonly snapshot: Int32Array

  static bytes(pages: number): number {
    return layout(pages).snapshot
  }

  /** A new channel covering `pages` GPNs, or another thread's view of an existing buffer. */
  constructor(init: number | SharedArrayBuffer) {
    if (typeof init === 'number') {
      if (!Number.isInteger(init) || init < 1 || init > 1 << 22) {
        throw new VtlError('E_FIELD_RANGE', `snapshot pages must be 1..2^22, got ${init}`, {
          field: 'pages',
        })
      }
      this.buffer = new SharedArrayBuffer(HostChannel.bytes(init))
      this.pages = init
      new Int32Array(this.buffer, 0, 16)[PAGES] = init
    } else {
      this.buffer = init
      this.pages = new Int32Array(init, 0, 16)[PAGES] ?? 0
    }
    const at = layout(this.pages)
    this.words = new Int32Array(this.buffer, 0, HEADER_BYTES >>> 2)
    this.big = new BigInt64Array(this.buffer, at.big, 2 + HOST_CHANNEL_MAX_GPNS)
    this.input = new Uint8Array(this.buffer, at.bytes, HOST_CHANNEL_MAX_INPUT)
    this.sharedBits = new Uint8Array(this.buffer, at.shared, HOST_CHANNEL_MAX_GPNS)
    this.snapshot = new Int32Array(this.buffer, at.snapshot - 2 * this.pages * 4, 2 * this.pages)
  }

  /** The snapshot word of `gpn` for `vtl` (`Atomics.load`; see `decodePermission`). */
  permissionWord(vtl: GuestVtl, gpn: number): number {
    if (!Number.isInteger(gpn) || gpn < 0 || gpn >= this.pages) {
      throw new VtlError('E_FIELD_RANGE', `GPN ${gpn} is outside the shared snapshot`, {
        field: 'gpn',
      })
    }
    return Atomics.load(this.snapshot, vtl * this.pages + gpn)
  }

  permission(vtl: GuestVtl, gpn: number): PagePermission {
    return decodePermission(this.permissionWord(vtl, gpn))
  }

  /** Acknowledged protection changes so far (all pages, both VTLs). */
  get epoch(): number {
    return Atomics.load(this.words, EPOCH)
  }

  /** The owner stopped serving (`HostOwner.close`). */
  isClosed(): boolean {
    return Atomics.load(this.words, CLOSED) !== 0
  }
}

/**
 * A worker's host: `HypervisorPort` and `ProtectionPort` whose calls block (Atomics.wait) until
 * the owner thread has performed them. Accesses read the shared snapshot instead.
 */
export class HostClient extends HostChannel implements HypervisorPort, ProtectionPort {
  /** Calls made through the channel (for statistics). */
  calls = 0

  private call<T>(op: number, fill: () => void, read: () => T): T {
    lockWord(this.words, MUTEX)
    try {
      if (this.isClosed()) throw new VtlError('E_INVARIANT', 'the host channel is closed')
      Atomics.store(this.words, OP, op)
      fill()
      const seq = (Atomics.add(this.words, REQUEST, 1) + 1) | 0
      Atomics.notify(this.words, REQUEST)
      while (Atomics.load(this.words, RESPONSE) !== seq) {
        Atomics.wait(this.words, RESPONSE, (seq - 1) | 0, 1000)
        if (this.isClosed() && Atomics.load(this.words, RESPONSE) !== seq) {
          throw new VtlError('E_INVARIANT', 'the host owner closed the channel mid-call')
        }
      }
      this.calls++
      return read()
    } finally {
      unlockWord(this.words, MUTEX)
    }
  }

  private putGpns(gpns: readonly bigint[]): void {
    if (gpns.length > HOST_CHANNEL_MAX_GPNS) {
      throw new VtlError('E_FIELD_RANGE', `at most ${HOST_CHANNEL_MAX_GPNS} GPNs per call`, {
        field: 'gpns',
      })
    }
    for (let i = 0; i < gpns.length; i++) this.big[2 + i] = gpns[i] ?? 0n
    Atomics.store(this.words, COUNT, gpns.length)
  }

  private status(): HvStatus {
    return Atomics.load(this.words, STATUS) as HvStatus
  }

  hypercall(control: bigint, input: Uint8Array): HypervisorCallResult {
    if (input.length > HOST_CHANNEL_MAX_INPUT) {
      throw new VtlError('E_FIELD_RANGE', `hypercall input over ${HOST_CHANNEL_MAX_INPUT} bytes`)
    }
    return this.call(
      Op.Hypercall,
      () => {
        this.big[0] = control
        this.input.set(input)
        Atomics.store(this.words, COUNT, input.length)
      },
      () => ({ result: BigInt.asUintN(64, this.big[1] ?? 0n) })
    )
  }

  changeDefaultVtlProtections(vtl: GuestVtl, flags: number): HvStatus {
    return this.call(
      Op.DefaultProtections,
      () => {
        Atomics.store(this.words, ARG0, vtl)
        Atomics.store(this.words, ARG1, flags)
      },
      () => this.status()
    )
  }

  changeVtlProtections(vtl: GuestVtl, gpns: readonly bigint[], flags: number): HvStatus {
    return this.call(
      Op.VtlProtections,
      () => {
        Atomics.store(this.words, ARG0, vtl)
        Atomics.store(this.words, ARG1, flags)
        this.putGpns(gpns)
      },
      () => this.status()
    )
  }

  changeHostVisibility(callerVtl: GuestVtl, gpns: readonly bigint[], shared: boolean): RepOutcome {
    return this.call(
      Op.HostVisibility,
      () => {
        Atomics.store(this.words, ARG0, callerVtl)
        Atomics.store(this.words, ARG1, shared ? 1 : 0)
        this.putGpns(gpns)
      },
      () => ({ status: this.status(), processed: Atomics.load(this.words, PROCESSED) })
    )
  }

  queryHostVisibility(gpns: readonly bigint[]): { status: HvStatus; shared: boolean[] } {
    return this.call(
      Op.QueryVisibility,
      () => {
        this.putGpns(gpns)
      },
      () => ({
        status: this.status(),
        shared: Array.from(
          this.sharedBits.subarray(0, Atomics.load(this.words, PROCESSED)),
          (b) => b !== 0
        ),
      })
    )
  }

  /** Wake the owner (e.g. after publishing "I am done" in another shared word). */
  kickOwner(): void {
    Atomics.notify(this.words, REQUEST)
  }
}

/** Where the owner reads a page's real permissions after a change (the GpaSpace, the module). */
export type PermissionSource = (gpn: bigint) => {
  vtl0: number | undefined
  vtl1: number | undefined
}

export interface HostOwnerOptions {
  hypervisor: HypervisorPort
  protection: ProtectionPort
  permissions: PermissionSource
}

/**
 * The owner thread's side: performs each request on the real host objects (one at a time, so
 * protection changes are serialised), republishes the permissions of every snapshot page the
 * change may have touched, bumps the epoch, and only then answers. A client's call returning is
 * the acknowledgement; every snapshot word it changed was stored before it (Atomics are
 * sequentially consistent), so any VP's next access after the acknowledgement reads the new
 * permissions.
 */
export class HostOwner extends HostChannel {
  private readonly options: HostOwnerOptions
  private handled: number
  /** Requests served (for statistics). */
  served = 0

  constructor(channel: HostChannel, options: HostOwnerOptions) {
    super(channel.buffer)
    this.options = options
    this.handled = Atomics.load(this.words, REQUEST)
    // The starting permissions are version 0.
    for (let gpn = 0; gpn < this.pages; gpn++) {
      for (const vtl of [0, 1] as const) {
        Atomics.store(this.snapshot, vtl * this.pages + gpn, this.current(vtl, gpn))
      }
    }
  }

  private current(vtl: GuestVtl, gpn: number): number {
    const state = this.options.permissions(BigInt(gpn))
    const flags = vtl === 0 ? state.vtl0 : state.vtl1
    return flags === undefined ? 0 : VALID | (flags & 0xff)
  }

  /** Republish one snapshot word; the version counts acknowledged changes of the page. */
  private refresh(vtl: GuestVtl, gpn: number, changed: boolean): boolean {
    const index = vtl * this.pages + gpn
    const word = Atomics.load(this.snapshot, index)
    const low = this.current(vtl, gpn)
    if (!changed && (word & 0x1ff) === low) return false
    const version = (word >>> VERSION_SHIFT) + 1
    Atomics.store(this.snapshot, index, (version << VERSION_SHIFT) | low)
    return true
  }

  private gpns(): bigint[] {
    const count = Atomics.load(this.words, COUNT)
    return Array.from(this.big.subarray(2, 2 + count), (g) => BigInt.asUintN(64, g))
  }

  private inSnapshot(gpn: bigint): number {
    return gpn < BigInt(this.pages) ? Number(gpn) : -1
  }

  /** Serve one pending request, if any; true when one was served. */
  serveOne(): boolean {
    if (Atomics.load(this.words, REQUEST) === this.handled) return false
    const seq = (this.handled + 1) | 0
    const op = Atomics.load(this.words, OP)
    const vtl = (Atomics.load(this.words, ARG0) & 1) as GuestVtl
    const arg = Atomics.load(this.words, ARG1)
    const { protection, hypervisor } = this.options
    let status: HvStatus = HvStatus.Success
    let processed = 0
    let published = false
    switch (op) {
      case Op.DefaultProtections: {
        status = protection.changeDefaultVtlProtections(vtl, arg >>> 0)
        if (status === HvStatus.Success) {
          for (let gpn = 0; gpn < this.pages; gpn++) {
            if (this.refresh(vtl, gpn, false)) published = true
          }
        }
        break
      }
      case Op.VtlProtections: {
        const gpns = this.gpns()
        status = protection.changeVtlProtections(vtl, gpns, arg >>> 0)
        if (status === HvStatus.Success) {
          for (const gpn of gpns) {
            const page = this.inSnapshot(gpn)
            if (page >= 0 && this.refresh(vtl, page, true)) published = true
          }
        }
        break
      }
      case Op.HostVisibility: {
        const gpns = this.gpns()
        const outcome = protection.changeHostVisibility(vtl, gpns, arg !== 0)
        status = outcome.status
        processed = outcome.processed
        for (const gpn of gpns.slice(0, processed)) {
          const page = this.inSnapshot(gpn)
          if (page < 0) continue
          if (this.refresh(0, page, false)) published = true
          if (this.refresh(1, page, false)) published = true
        }
        break
      }
      case Op.QueryVisibility: {
        const answer = protection.queryHostVisibility(this.gpns())
        status = answer.status
        processed = answer.shared.length
        answer.shared.forEach((s, i) => (this.sharedBits[i] = s ? 1 : 0))
        break
      }
      case Op.Hypercall: {
        const input = this.input.slice(0, Atomics.load(this.words, COUNT))
        this.big[1] = hypervisor.hypercall(this.big[0] ?? 0n, input).result
        break
      }
      default:
        throw new VtlError('E_INVARIANT', `host channel: unknown request ${op}`)
    }
    if (published) Atomics.add(this.words, EPOCH, 1)
    Atomics.store(this.words, STATUS, status)
    Atomics.store(this.words, PROCESSED, processed)
    this.handled = seq
    this.served++
    Atomics.store(this.words, RESPONSE, seq)
    Atomics.notify(this.words, RESPONSE)
    return true
  }

  /**
   * Serve requests until `done()` (checked whenever the owner wakes: clients call `kickOwner`
   * after publishing it) or `deadline` (ms since the epoch; then the channel is closed and an
   * error thrown).
   */
  serve(done: () => boolean, deadline: number): void {
    for (;;) {
      if (this.serveOne()) continue
      if (done()) return
      if (Date.now() > deadline) {
        this.close()
        throw new VtlError('E_INVARIANT', 'parallel run: deadline passed while serving the host')
      }
      Atomics.wait(this.words, REQUEST, this.handled, 50)
    }
  }

  /** Refuse further requests (a blocked client then throws instead of waiting forever). */
  close(): void {
    Atomics.store(this.words, CLOSED, 1)
    Atomics.notify(this.words, RESPONSE)
  }
}
