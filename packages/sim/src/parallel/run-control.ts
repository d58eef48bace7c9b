/** Counters every worker adds to (Int32 indices in the run-control buffer). */
export const Counter = {
  Steps: 0,
  Idle: 1,
  PartitionEnableSuccess: 2,
  PartitionEnableRefused: 3,
  Vtl0EnableSuccess: 4,
  Vtl0EnableDenied: 5,
  Vtl0EnableEarly: 6,
  Vtl1EnableSuccess: 7,
  Vtl1EnableAlready: 8,
  StartSuccess: 9,
  StartRefused: 10,
  VtlCalls: 11,
  VtlReturns: 12,
  ConfigWrites: 13,
  ProtectSuccess: 14,
  ProtectRefused: 15,
  Accesses: 16,
  AccessesDenied: 17,
  ContextsApplied: 18,
  Violations: 19,
} as const
export type Counter = (typeof Counter)[keyof typeof Counter]
export type CounterName = keyof typeof Counter
const COUNTERS = Object.keys(Counter).length

// Phase words, then the counters, then three per-VP arrays, then one kick word per worker, then
// (8-byte aligned) the start signal's and the last finish's monotonic times in ns.
const GO = 0
const OPS_DONE = 1
const FINAL_DONE = 2
const HEADER = 4
const KICKS = 64
const START_TIME = 0
const FINISH_TIME = 1

/**
 * The run's own SharedArrayBuffer (not engine state): the start signal, phase barriers, counters,
 * and per VP how many EnableVpVtl / StartVirtualProcessor calls targeting it succeeded and the
 * version of its protection page that its last acknowledged change produced.
 */
export class RunControl {
  readonly buffer: SharedArrayBuffer
  readonly vpCount: number
  private readonly words: Int32Array
  private readonly times: BigInt64Array

  constructor(vpCount: number, buffer?: SharedArrayBuffer) {
    this.vpCount = vpCount
    const wordBytes = (HEADER + COUNTERS + 3 * vpCount + KICKS) * 4
    const timesAt = Math.ceil(wordBytes / 8) * 8
    this.buffer = buffer ?? new SharedArrayBuffer(timesAt + 2 * 8)
    this.words = new Int32Array(this.buffer, 0, wordBytes / 4)
    this.times = new BigInt64Array(this.buffer, timesAt, 2)
  }

  /** Records the start time (`process.hrtime`, one clock for every thread) and signals it. */
  start(): void {
    Atomics.store(this.times, START_TIME, process.hrtime.bigint())
    Atomics.store(this.words, GO, 1)
    Atomics.notify(this.words, GO)
  }
  waitForStart(): void {
    while (Atomics.load(this.words, GO) === 0) Atomics.wait(this.words, GO, 0, 1000)
  }

  /** A worker finished its steps: keeps the latest such time. */
  finished(): void {
    const now = process.hrtime.bigint()
    for (;;) {
      const last = Atomics.load(this.times, FINISH_TIME)
      if (last >= now) return
      if (Atomics.compareExchange(this.times, FINISH_TIME, last, now) === last) return
    }
  }
  /** From the start signal until the last worker finished its steps (ms). */
  elapsedMs(): number {
    const start = Atomics.load(this.times, START_TIME)
    return Number(Atomics.load(this.times, FINISH_TIME) - start) / 1e6
  }

  arriveOpsDone(): number {
    const n = Atomics.add(this.words, OPS_DONE, 1) + 1
    Atomics.notify(this.words, OPS_DONE)
    return n
  }
  opsDone(): number {
    return Atomics.load(this.words, OPS_DONE)
  }
  /** Block until `count` workers finished their operations. */
  waitOpsDone(count: number): void {
    for (let seen = this.opsDone(); seen < count; seen = this.opsDone()) {
      Atomics.wait(this.words, OPS_DONE, seen, 1000)
    }
  }
  arriveFinalDone(): void {
    Atomics.add(this.words, FINAL_DONE, 1)
  }

  add(counter: Counter, n = 1): void {
    Atomics.add(this.words, HEADER + counter, n)
  }
  get(counter: Counter): number {
    return Atomics.load(this.words, HEADER + counter)
  }
  counters(): Record<CounterName, number> {
    const out = {} as Record<CounterName, number>
    for (const [name, index] of Object.entries(Counter)) {
      out[name as CounterName] = this.get(index)
    }
    return out
  }

  private kickIndex(worker: number): number {
    return HEADER + COUNTERS + 3 * this.vpCount + (worker % KICKS)
  }
  /** Tell `worker` that one of its VPs has something to handle (VpPort.wakeVp). */
  kick(worker: number): void {
    Atomics.add(this.words, this.kickIndex(worker), 1)
    Atomics.notify(this.words, this.kickIndex(worker))
  }
  kicks(worker: number): number {
    return Atomics.load(this.words, this.kickIndex(worker))
  }
  /** Sleep until `worker` is kicked after `seen` kicks, or `timeoutMs`. */
  waitKick(worker: number, seen: number, timeoutMs: number): void {
    Atomics.wait(this.words, this.kickIndex(worker), seen, timeoutMs)
  }

  private vpIndex(array: number, vp: number): number {
    return HEADER + COUNTERS + array * this.vpCount + vp
  }
  /** An EnableVpVtl targeting `vp` succeeded. */
  addEnableWin(vp: number): void {
    Atomics.add(this.words, this.vpIndex(0, vp), 1)
  }
  enableWins(vp: number): number {
    return Atomics.load(this.words, this.vpIndex(0, vp))
  }
  /** A StartVirtualProcessor targeting `vp` succeeded. */
  addStartWin(vp: number): void {
    Atomics.add(this.words, this.vpIndex(1, vp), 1)
  }
  startWins(vp: number): number {
    return Atomics.load(this.words, this.vpIndex(1, vp))
  }
  /** Publish the version of `vp`'s protection page its last acknowledged change produced. */
  setAcknowledged(vp: number, version: number): void {
    Atomics.store(this.words, this.vpIndex(2, vp), version)
  }
  acknowledged(vp: number): number {
    return Atomics.load(this.words, this.vpIndex(2, vp))
  }
}
