/**
 * Simulated time: one cycle counter per VP (VPs run concurrently on real hardware, so each has
 * its own timeline), turned into estimated hardware time at a configurable clock rate. The
 * counters are one typed array (8 bytes a VP: advancing one is on every guest step); a VP counts
 * as used, and appears in `toJSON`, from its first advance.
 */
export class SimClock {
  readonly vps: number
  /** Clock rate for `hardwareNs`, in GHz (cycles per ns). */
  readonly ghz: number
  private readonly cycles: Float64Array
  /** 1 for a VP whose counter was set (the VPs `toJSON` lists). */
  private readonly used: Uint8Array

  constructor(vps: number, ghz = 2.0) {
    if (!Number.isSafeInteger(vps) || vps < 1) throw new RangeError(`vps must be ≥ 1: ${vps}`)
    if (!Number.isFinite(ghz) || ghz <= 0) throw new RangeError(`ghz must be > 0: ${ghz}`)
    this.vps = vps
    this.ghz = ghz
    this.cycles = new Float64Array(vps)
    this.used = new Uint8Array(vps)
  }

  private check(vp: number): void {
    if (!(vp >= 0 && vp < this.vps && Number.isInteger(vp))) vpOutside(vp, this.vps)
  }

  /** Adds `cycles` to `vp`'s counter and returns the new value. */
  advance(vp: number, cycles: number): number {
    this.add(vp, cycles)
    return this.cycles[vp] ?? 0
  }

  /**
   * `advance` without the answer: a caller that drops it (the TD's clock flush after every step)
   * does not get a boxed number per call.
   */
  add(vp: number, cycles: number): void {
    this.check(vp)
    if (!(cycles >= 0 && cycles < Infinity)) badCycles(cycles)
    this.cycles[vp] = (this.cycles[vp] ?? 0) + cycles
    this.used[vp] = 1
  }

  /** `vp`'s simulated cycles so far. */
  now(vp: number): number {
    this.check(vp)
    return this.cycles[vp] ?? 0
  }

  /**
   * Moves `vp` forward to `cycles` if it is behind (a VP that waited for another one resumes at
   * the other's time). Returns the VP's time afterwards.
   */
  syncTo(vp: number, cycles: number): number {
    const now = this.now(vp)
    if (cycles > now) {
      this.cycles[vp] = cycles
      this.used[vp] = 1
    }
    return Math.max(now, cycles)
  }

  /** The latest time over all VPs: the run's simulated length. */
  max(): number {
    let m = 0
    for (const c of this.cycles) if (c > m) m = c
    return m
  }

  /** Estimated hardware time of `vp` (or of the whole run) in ns at `ghz`. */
  hardwareNs(vp?: number): number {
    return (vp === undefined ? this.max() : this.now(vp)) / this.ghz
  }

  toJSON(): { vps: number; ghz: number; cycles: Record<string, number> } {
    const cycles: Record<string, number> = {}
    this.cycles.forEach((c, vp) => {
      if (this.used[vp] === 1) cycles[String(vp)] = c
    })
    return { vps: this.vps, ghz: this.ghz, cycles }
  }

  static fromJSON(json: { vps: number; ghz: number; cycles: Record<string, number> }): SimClock {
    const clock = new SimClock(json.vps, json.ghz)
    for (const [vp, c] of Object.entries(json.cycles)) {
      clock.check(Number(vp))
      clock.cycles[Number(vp)] = c
      clock.used[Number(vp)] = 1
    }
    return clock
  }
}

// The throws, built apart: the checks stay small enough to inline into every step's clock flush.
function vpOutside(vp: number, vps: number): never {
  throw new RangeError(`VP ${vp} is outside 0..${vps - 1}`)
}

function badCycles(cycles: number): never {
  throw new RangeError(`cycles must be a finite non-negative number: ${cycles}`)
}
