/**
 * An interval map over page numbers `[0, end)`: a sequence of runs, each a start and a small
 * non-negative integer value; a run lasts until the next start. Equal neighbours are always
 * merged, so cost follows the number of distinct runs, never the number of pages.
 *
 * Layout: a two-level B-tree. Runs live in fixed-capacity leaves inside two pooled typed arrays
 * (`starts`: Float64, exact for page numbers below 2^53; `vals`: Int32); an ordered directory of
 * leaves (`order`, `firsts`) is binary-searched first, then the leaf. Inserting or removing a run
 * moves at most one leaf's entries; splitting or dropping a leaf moves directory entries only
 * (≈ runs / 48 of them), so updates stay O(log n + runs touched) with tiny constants.
 */

/** Runs per leaf. 64 keeps a leaf's shift within two cache lines of starts. */
const LEAF = 64
const HALF = LEAF / 2
/** Below this many runs a leaf tries to merge with its right neighbour. */
const LOW = LEAF / 4

export class RunMap {
  /** One past the last page number. */
  readonly end: number
  private starts: Float64Array
  private vals: Int32Array
  private counts: Int32Array
  /** Leaf ids in key order, and each one's first start (a copy kept for the directory search). */
  private order: Int32Array
  private firsts: Float64Array
  private nLeaves = 0
  /** Leaf ids handed out so far (the pool's high-water mark) and the ones given back. */
  private allocated = 0
  private readonly freeLeaves: number[] = []
  private runs = 0
  // Results of `locate`, kept in fields so the hot path allocates nothing.
  private lp = 0
  private li = 0
  /**
   * The page whose `lp`/`li` are still current after a `valueAt`, or -1: a read-check-write of
   * one page (ModifyVtlProtectionMask's common case) searches the tree once, not twice. Every
   * other path goes through `locate`, which clears it before anything can move.
   */
  private located = -1

  constructor(end: number, initial: number) {
    if (!Number.isSafeInteger(end) || end <= 0) throw new RangeError(`RunMap end ${end}`)
    this.end = end
    this.starts = new Float64Array(LEAF * 4)
    this.vals = new Int32Array(LEAF * 4)
    this.counts = new Int32Array(4)
    this.order = new Int32Array(4)
    this.firsts = new Float64Array(4)
    const leaf = this.allocLeaf()
    this.order[0] = leaf
    this.firsts[0] = 0
    this.nLeaves = 1
    this.starts[leaf * LEAF] = 0
    this.vals[leaf * LEAF] = initial
    this.counts[leaf] = 1
    this.runs = 1
  }

  /** Number of runs. */
  get runCount(): number {
    return this.runs
  }

  /** Bytes held by the typed arrays (capacity, not just what is in use). */
  get byteLength(): number {
    return (
      this.starts.byteLength +
      this.vals.byteLength +
      this.counts.byteLength +
      this.order.byteLength +
      this.firsts.byteLength
    )
  }

  valueAt(page: number): number {
    if (this.located !== page) {
      this.locate(page)
      this.located = page
    }
    return this.vals[(this.order[this.lp] ?? 0) * LEAF + this.li] ?? 0
  }

  /** Sets every page of `[a, b)` to `value`. */
  assign(a: number, b: number, value: number): void {
    if (a >= b) return
    if (b === a + 1) {
      this.setPage(a, value)
      return
    }
    this.splitAt(a)
    this.splitAt(b)
    this.locate(a)
    const p = this.lp
    const i = this.li
    const leaf = this.order[p] ?? 0
    this.vals[leaf * LEAF + i] = value
    this.removeInside(p, i + 1, b)
    this.coalesce(a, b)
  }

  /** Replaces each run's value `v` inside `[a, b)` with `fn(v)`. */
  update(a: number, b: number, fn: (value: number) => number): void {
    if (a >= b) return
    if (b === a + 1) {
      this.setPage(a, 0, fn)
      return
    }
    this.splitAt(a)
    this.splitAt(b)
    this.locate(a)
    let p = this.lp
    let i = this.li
    outer: while (p < this.nLeaves) {
      const leaf = this.order[p] ?? 0
      const base = leaf * LEAF
      const count = this.counts[leaf] ?? 0
      for (; i < count; i++) {
        if ((this.starts[base + i] ?? 0) >= b) break outer
        this.vals[base + i] = fn(this.vals[base + i] ?? 0)
      }
      p++
      i = 0
    }
    this.coalesce(a, b)
  }

  /**
   * Calls `fn(start, end, value)` for each run overlapping `[a, b)`, clipped to it, in order.
   * Returning `false` stops the walk; the result says whether it ran to the end. The map must not
   * be changed during the walk.
   */
  forEachRun(
    a: number,
    b: number,
    fn: (start: number, end: number, value: number) => unknown
  ): boolean {
    if (a >= b) return true
    this.locate(a)
    let p = this.lp
    let i = this.li
    let cur = a
    while (p < this.nLeaves) {
      const leaf = this.order[p] ?? 0
      const base = leaf * LEAF
      const count = this.counts[leaf] ?? 0
      for (; i < count; i++) {
        const next =
          i + 1 < count
            ? (this.starts[base + i + 1] ?? 0)
            : p + 1 < this.nLeaves
              ? (this.firsts[p + 1] ?? 0)
              : this.end
        const stop = next < b ? next : b
        if (fn(cur, stop, this.vals[base + i] ?? 0) === false) return false
        if (stop >= b) return true
        cur = stop
      }
      p++
      i = 0
    }
    return true
  }

  /** Start and end of the run containing `page`. */
  runBounds(page: number): { start: number; end: number; value: number } {
    this.locate(page)
    const p = this.lp
    const i = this.li
    const leaf = this.order[p] ?? 0
    const base = leaf * LEAF
    const count = this.counts[leaf] ?? 0
    const end =
      i + 1 < count
        ? (this.starts[base + i + 1] ?? 0)
        : p + 1 < this.nLeaves
          ? (this.firsts[p + 1] ?? 0)
          : this.end
    return { start: this.starts[base + i] ?? 0, end, value: this.vals[base + i] ?? 0 }
  }

  /** Checks the structure's invariants; for tests. Throws on the first violation. */
  checkInvariants(): void {
    let prevStart = -1
    let prevVal = -1
    let total = 0
    for (let p = 0; p < this.nLeaves; p++) {
      const leaf = this.order[p] ?? 0
      const count = this.counts[leaf] ?? 0
      if (count <= 0 || count > LEAF) throw new Error(`leaf ${leaf} has count ${count}`)
      if (this.firsts[p] !== this.starts[leaf * LEAF]) throw new Error(`firsts[${p}] is stale`)
      for (let i = 0; i < count; i++) {
        const s = this.starts[leaf * LEAF + i] ?? 0
        const v = this.vals[leaf * LEAF + i] ?? 0
        if (s <= prevStart) throw new Error(`starts not increasing at ${s}`)
        if (v === prevVal) throw new Error(`equal neighbours at ${s}`)
        if (s >= this.end) throw new Error(`start ${s} beyond end`)
        prevStart = s
        prevVal = v
        total++
      }
    }
    if (this.starts[(this.order[0] ?? 0) * LEAF] !== 0) throw new Error('first run not at 0')
    if (total !== this.runs) throw new Error(`run count ${this.runs} != ${total}`)
  }

  // ---- internals ----

  /**
   * The single-page case of `assign` / `update` (the new value is `fn(old)` when `fn` is given),
   * the hot path of random 4 KiB changes: one search, then at most two entry edits, merging with
   * either neighbour in place.
   */
  private setPage(a: number, value: number, fn?: (value: number) => number): void {
    if (this.located !== a) this.locate(a)
    const p = this.lp
    const i = this.li
    const leaf = this.order[p] ?? 0
    const base = leaf * LEAF
    const count = this.counts[leaf] ?? 0
    const cur = this.vals[base + i] ?? 0
    const v = fn === undefined ? value : fn(cur)
    // Dropped only now: `fn` may read the map, and the writes below move runs.
    this.located = -1
    if (cur === v) return
    const s = this.starts[base + i] ?? 0
    // The following entry: in this leaf or the first of the next one.
    const nextP = i + 1 < count ? p : p + 1
    const nextI = i + 1 < count ? i + 1 : 0
    const hasNext = nextP < this.nLeaves
    const nextLeaf = hasNext ? (this.order[nextP] ?? 0) : 0
    const nextStart = hasNext ? (this.starts[nextLeaf * LEAF + nextI] ?? 0) : this.end
    const nextVal = hasNext ? (this.vals[nextLeaf * LEAF + nextI] ?? -1) : -1
    let prevVal = -1
    if (i > 0) prevVal = this.vals[base + i - 1] ?? -1
    else if (p > 0) {
      const pl = this.order[p - 1] ?? 0
      prevVal = this.vals[pl * LEAF + (this.counts[pl] ?? 1) - 1] ?? -1
    }
    const endsHere = nextStart === a + 1
    const nextJoins = endsHere && nextVal === v
    if (s === a) {
      if (prevVal === v) {
        if (endsHere) {
          // The page's own run disappears into the previous one (and the next, if equal).
          if (nextJoins && nextP === p) {
            this.removeAt(p, i, 2)
          } else {
            // Drop the later entry first, without merging leaves, so (p, i) stays valid.
            if (nextJoins) this.removeAt(nextP, nextI, 1, false)
            this.removeAt(p, i)
          }
        } else {
          this.starts[base + i] = a + 1
          if (i === 0) this.firsts[p] = a + 1
        }
        return
      }
      if (endsHere) {
        this.vals[base + i] = v
        if (nextJoins) this.removeAt(nextP, nextI)
        return
      }
      this.vals[base + i] = v
      this.insert(p, i + 1, a + 1, cur)
      return
    }
    if (endsHere) {
      if (nextJoins) {
        this.starts[nextLeaf * LEAF + nextI] = a
        if (nextI === 0) this.firsts[nextP] = a
      } else {
        this.insert(p, i + 1, a, v)
      }
      return
    }
    // Inside a longer run: the page and the rest of the run become two entries, moved in once.
    const at = this.makeRoom(p, i + 1, 2)
    this.starts[at] = a
    this.vals[at] = v
    this.starts[at + 1] = a + 1
    this.vals[at + 1] = cur
  }

  /** Removes `n` entries of one leaf from index `i`; an emptied leaf leaves the directory. */
  private removeAt(p: number, i: number, n = 1, merge = true): void {
    const leaf = this.order[p] ?? 0
    const base = leaf * LEAF
    const count = this.counts[leaf] ?? 0
    this.move(base + i + n, base + count, base + i)
    this.counts[leaf] = count - n
    this.runs -= n
    if (count === n) {
      this.freeLeaves.push(leaf)
      this.dirRemove(p, 1)
      return
    }
    if (i === 0) this.firsts[p] = this.starts[base] ?? 0
    if (merge && count - n < LOW) {
      if (p + 1 < this.nLeaves) this.maybeMerge(p)
      else if (p > 0) this.maybeMerge(p - 1)
    }
  }

  /** Finds the run containing `x` (0 ≤ x < end): sets `lp` (directory position) and `li`. */
  private locate(x: number): void {
    this.located = -1
    // Both searches keep the answer in [lo, lo + n) and halve n with a mask instead of a branch:
    // random pages make every comparison a coin toss, and a mispredicted branch costs more than
    // the step (random 4 KiB toggles over 100,000 runs: ~25% less time per search).
    const firsts = this.firsts
    let lo = 0
    for (let n = this.nLeaves; n > 1;) {
      const half = n >>> 1
      lo += half & -+((firsts[lo + half] ?? 0) <= x)
      n -= half
    }
    const leaf = this.order[lo] ?? 0
    const base = leaf * LEAF
    const starts = this.starts
    let l = 0
    for (let n = this.counts[leaf] ?? 1; n > 1;) {
      const half = n >>> 1
      l += half & -+((starts[base + l + half] ?? 0) <= x)
      n -= half
    }
    this.lp = lo
    this.li = l
  }

  /** Makes a run start at `x` (no-op at 0, at `end`, or where one already starts). */
  private splitAt(x: number): void {
    if (x <= 0 || x >= this.end) return
    this.locate(x)
    const leaf = this.order[this.lp] ?? 0
    const base = leaf * LEAF
    if (this.starts[base + this.li] === x) return
    this.insert(this.lp, this.li + 1, x, this.vals[base + this.li] ?? 0)
  }

  /** Inserts a run at index `i` (≥ 1) of the leaf at directory position `p`. */
  private insert(p: number, i: number, start: number, value: number): void {
    const at = this.makeRoom(p, i, 1)
    this.starts[at] = start
    this.vals[at] = value
  }

  /**
   * Opens `n` (1 or 2) entries at index `i` (≥ 1) of the leaf at directory position `p`, splitting
   * the leaf in halves first when it has no room, and returns the pool index of the first one.
   */
  private makeRoom(p: number, i: number, n: number): number {
    let leaf = this.order[p] ?? 0
    let count = this.counts[leaf] ?? 0
    if (count + n > LEAF) {
      const right = this.allocLeaf()
      // allocLeaf may have grown the pool; nothing cached beyond ids is re-read.
      const lb = leaf * LEAF
      const rb = right * LEAF
      this.move(lb + HALF, lb + count, rb)
      this.counts[leaf] = HALF
      this.counts[right] = count - HALF
      this.dirInsert(p + 1, right, this.starts[rb] ?? 0)
      if (i > HALF) {
        i -= HALF
        leaf = right
        count -= HALF
      } else {
        count = HALF
      }
    }
    const base = leaf * LEAF
    this.move(base + i, base + count, base + i + n)
    this.counts[leaf] = count + n
    this.runs += n
    return base + i
  }

  /**
   * Copies the pool entries `[from, to)` to `dest` (ranges may overlap). A leaf's worth of entries
   * is moved faster by a loop than by two `copyWithin` calls into the runtime.
   */
  private move(from: number, to: number, dest: number): void {
    const starts = this.starts
    const vals = this.vals
    if (dest < from) {
      for (let k = from, d = dest; k < to; k++, d++) {
        starts[d] = starts[k] ?? 0
        vals[d] = vals[k] ?? 0
      }
    } else if (dest > from) {
      for (let k = to - 1, d = dest + (to - 1 - from); k >= from; k--, d--) {
        starts[d] = starts[k] ?? 0
        vals[d] = vals[k] ?? 0
      }
    }
  }

  /** Removes every run whose start is in `[from, b)`, beginning at index `i` of position `p`. */
  private removeInside(p: number, i: number, b: number): void {
    // First leaf: drop a middle slice.
    let leaf = this.order[p] ?? 0
    let base = leaf * LEAF
    let count = this.counts[leaf] ?? 0
    const before = count
    let j = i
    while (j < count && (this.starts[base + j] ?? 0) < b) j++
    if (j > i) {
      this.starts.copyWithin(base + i, base + j, base + count)
      this.vals.copyWithin(base + i, base + j, base + count)
      count -= j - i
      this.counts[leaf] = count
      this.runs -= j - i
    }
    // Stopped inside this leaf, or nothing follows it: done.
    if (j < before || p + 1 >= this.nLeaves) return
    // Whole leaves in the middle, then a prefix of the last one.
    let q = p + 1
    while (q < this.nLeaves) {
      leaf = this.order[q] ?? 0
      base = leaf * LEAF
      count = this.counts[leaf] ?? 0
      const last = this.starts[base + count - 1] ?? 0
      if (last < b) {
        this.runs -= count
        this.freeLeaves.push(leaf)
        q++
        continue
      }
      let k = 0
      while ((this.starts[base + k] ?? 0) < b) k++
      if (k > 0) {
        this.starts.copyWithin(base, base + k, base + count)
        this.vals.copyWithin(base, base + k, base + count)
        this.counts[leaf] = count - k
        this.firsts[q] = this.starts[base] ?? 0
        this.runs -= k
      }
      break
    }
    if (q > p + 1) this.dirRemove(p + 1, q - (p + 1))
  }

  /**
   * Removes each run in the window whose value equals its predecessor's, for runs starting in
   * `[a, b]` (so the boundaries at both ends are checked too).
   */
  private coalesce(a: number, b: number): void {
    this.locate(a)
    let p = this.lp
    let i = this.li
    let prev = -1
    {
      const leaf = this.order[p] ?? 0
      if (i > 0) prev = this.vals[leaf * LEAF + i - 1] ?? -1
      else if (p > 0) {
        const pl = this.order[p - 1] ?? 0
        prev = this.vals[pl * LEAF + (this.counts[pl] ?? 1) - 1] ?? -1
      }
    }
    const firstP = p
    while (p < this.nLeaves) {
      const leaf = this.order[p] ?? 0
      const base = leaf * LEAF
      const count = this.counts[leaf] ?? 0
      let w = i
      let r = i
      let done = false
      for (; r < count; r++) {
        const s = this.starts[base + r] ?? 0
        if (s > b) {
          done = true
          break
        }
        const v = this.vals[base + r] ?? 0
        if (v === prev) continue
        prev = v
        if (w !== r) {
          this.starts[base + w] = s
          this.vals[base + w] = v
        }
        w++
      }
      const removed = r - w
      if (removed > 0) {
        if (r < count) {
          this.starts.copyWithin(base + w, base + r, base + count)
          this.vals.copyWithin(base + w, base + r, base + count)
        }
        this.runs -= removed
        const left = count - removed
        this.counts[leaf] = left
        if (left === 0) {
          this.freeLeaves.push(leaf)
          this.dirRemove(p, 1)
          if (done) break
          i = 0
          continue
        }
        this.firsts[p] = this.starts[base] ?? 0
      }
      if (done) break
      p++
      i = 0
    }
    // Keep leaves reasonably full around the window so memory per run stays bounded.
    const lastP = p < this.nLeaves ? p : this.nLeaves - 1
    for (let q = Math.min(lastP, this.nLeaves - 2); q >= Math.max(0, firstP - 1); q--) {
      this.maybeMerge(q)
    }
  }

  /** Merges the leaf at position `q + 1` into the one at `q` when both are sparse enough. */
  private maybeMerge(q: number): void {
    if (q + 1 >= this.nLeaves) return
    const a = this.order[q] ?? 0
    const b = this.order[q + 1] ?? 0
    const ca = this.counts[a] ?? 0
    const cb = this.counts[b] ?? 0
    if ((ca >= LOW && cb >= LOW) || ca + cb > HALF + LOW) return
    const ab = a * LEAF
    const bb = b * LEAF
    this.starts.copyWithin(ab + ca, bb, bb + cb)
    this.vals.copyWithin(ab + ca, bb, bb + cb)
    this.counts[a] = ca + cb
    this.counts[b] = 0
    this.freeLeaves.push(b)
    this.dirRemove(q + 1, 1)
  }

  private allocLeaf(): number {
    const reused = this.freeLeaves.pop()
    if (reused !== undefined) return reused
    const id = this.allocated++
    if (id >= this.counts.length) {
      const cap = this.counts.length * 2
      const starts = new Float64Array(cap * LEAF)
      starts.set(this.starts)
      this.starts = starts
      const vals = new Int32Array(cap * LEAF)
      vals.set(this.vals)
      this.vals = vals
      const counts = new Int32Array(cap)
      counts.set(this.counts)
      this.counts = counts
      const order = new Int32Array(cap)
      order.set(this.order)
      this.order = order
      const firsts = new Float64Array(cap)
      firsts.set(this.firsts)
      this.firsts = firsts
    }
    return id
  }

  private dirInsert(p: number, leaf: number, first: number): void {
    this.order.copyWithin(p + 1, p, this.nLeaves)
    this.firsts.copyWithin(p + 1, p, this.nLeaves)
    this.order[p] = leaf
    this.firsts[p] = first
    this.nLeaves++
  }

  private dirRemove(p: number, n: number): void {
    this.order.copyWithin(p, p + n, this.nLeaves)
    this.firsts.copyWithin(p, p + n, this.nLeaves)
    this.nLeaves -= n
  }
}
