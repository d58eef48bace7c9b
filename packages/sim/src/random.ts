/**
 * A small seeded PRNG: xoshiro128** (32-bit state words, so every operation is exact in JS
 * numbers and identical on every platform), seeded through splitmix32. Used by the scheduler and
 * the fault injector; never by anything that must be unpredictable.
 */
export interface Random {
  /** The seed this stream was created from (after any fork derivation). */
  readonly seed: number
  /** A float in [0, 1) with 32 bits of randomness. */
  next(): number
  /** An integer in [0, maxExclusive); `maxExclusive` must be a positive safe integer. */
  int(maxExclusive: number): number
  /** A uniformly chosen element; throws on an empty array. */
  pick<T>(items: readonly T[]): T
  /**
   * An independent stream named `label`. It depends only on this stream's seed and the label,
   * not on how many numbers were drawn, so adding a draw somewhere never reshuffles another
   * component's stream.
   */
  fork(label: string): Random
  /** The four state words, for snapshots. */
  state(): [number, number, number, number]
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

/** FNV-1a over the UTF-16 code units of a label, mixed with a parent seed. */
function hashLabel(seed: number, label: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0

/**
 * A deterministic stream for `seed` (any safe integer; it is reduced to 32 bits after mixing
 * the high part in, so seeds above 2^32 still differ). `state` restores a snapshot.
 */
export function createRandom(seed: number, state?: readonly number[]): Random {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer: ${seed}`)
  const folded = (seed ^ Math.floor(seed / 0x1_0000_0000)) >>> 0
  const mix = splitmix32(folded)
  let s0 = mix()
  let s1 = mix()
  let s2 = mix()
  let s3 = mix()
  if (state !== undefined) {
    ;[s0, s1, s2, s3] = [state[0] ?? 0, state[1] ?? 0, state[2] ?? 0, state[3] ?? 0]
  }
  // xoshiro's all-zero state is a fixed point; splitmix never yields it, a bad snapshot might.
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1

  const nextU32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0
    const t = (s1 << 9) >>> 0
    s2 = (s2 ^ s0) >>> 0
    s3 = (s3 ^ s1) >>> 0
    s1 = (s1 ^ s2) >>> 0
    s0 = (s0 ^ s3) >>> 0
    s2 = (s2 ^ t) >>> 0
    s3 = rotl(s3, 11)
    return result
  }

  const random: Random = {
    seed: folded,
    next: () => nextU32() / 0x1_0000_0000,
    int(maxExclusive: number): number {
      if (!Number.isSafeInteger(maxExclusive) || maxExclusive <= 0) {
        throw new RangeError(`int() bound must be a positive safe integer: ${maxExclusive}`)
      }
      if (maxExclusive <= 0x1_0000_0000) {
        // Rejection sampling keeps small bounds unbiased.
        const limit = 0x1_0000_0000 - (0x1_0000_0000 % maxExclusive)
        for (;;) {
          const x = nextU32()
          if (x < limit) return x % maxExclusive
        }
      }
      // Above 2^32: 53 bits from two draws, then scale (bias below 2^-20 for any safe bound).
      const x = (nextU32() >>> 5) * 0x400_0000 + (nextU32() >>> 6)
      return Math.floor((x / 2 ** 53) * maxExclusive)
    },
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new RangeError('pick() from an empty array')
      return items[random.int(items.length)] as T
    },
    fork: (label: string) => createRandom(hashLabel(folded, label)),
    state: () => [s0, s1, s2, s3],
  }
  return random
}
