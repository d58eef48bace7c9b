import { VtlError } from '@vtl/core'

/** Word values of a lock: free, held, held with (possible) waiters. */
export const LockWord = { Free: 0, Held: 1, Contended: 2 } as const

/** Compare-exchange attempts before a contended lock sleeps in `Atomics.wait`. */
const SPINS = 100

/**
 * Take the lock in `words[index]` (a three-state futex mutex: 0 free, 1 held, 2 held and someone
 * may sleep). Uncontended it is one compare-exchange; contended it spins briefly, then marks the
 * word 2 and sleeps in `Atomics.wait` until an unlock notifies it. Not re-entrant.
 */
export function lockWord(words: Int32Array, index: number): void {
  let seen = Atomics.compareExchange(words, index, LockWord.Free, LockWord.Held)
  if (seen === LockWord.Free) return
  for (let spin = 0; spin < SPINS; spin++) {
    if (Atomics.load(words, index) === LockWord.Free) {
      seen = Atomics.compareExchange(words, index, LockWord.Free, LockWord.Held)
      if (seen === LockWord.Free) return
    }
  }
  // From here on the holder may not know about us: always leave the word at 2 when taking it.
  seen = Atomics.exchange(words, index, LockWord.Contended)
  while (seen !== LockWord.Free) {
    Atomics.wait(words, index, LockWord.Contended)
    seen = Atomics.exchange(words, index, LockWord.Contended)
  }
}

/** Try once: true when the lock was free and is now held. */
export function tryLockWord(words: Int32Array, index: number): boolean {
  return Atomics.compareExchange(words, index, LockWord.Free, LockWord.Held) === LockWord.Free
}

/** Release the lock in `words[index]`, waking one sleeper if it was contended. */
export function unlockWord(words: Int32Array, index: number): void {
  const old = Atomics.exchange(words, index, LockWord.Free)
  if (old === LockWord.Free) {
    throw new VtlError('E_INVARIANT', `lock word ${index} was not held`)
  }
  if (old === LockWord.Contended) Atomics.notify(words, index, 1)
}
