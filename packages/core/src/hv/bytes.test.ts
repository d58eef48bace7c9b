import { describe, expect, it } from 'vitest'
import { readU64, SMALL_BIGINTS_KEPT, smallBigInt, smallBigIntsHeld } from './bytes.js'

describe('readU64', () => {
  // Little-endian u64 at an offset: small values come from a shared table, the rest from
  // getBigUint64; both must read every byte pattern exactly as getBigUint64 does.
  it.each([
    ['zero', [0, 0, 0, 0, 0, 0, 0, 0], 0n],
    ['the largest shared value', [0xff, 0xff, 0, 0, 0, 0, 0, 0], 0xffffn],
    ['just above it', [0, 0, 1, 0, 0, 0, 0, 0], 0x1_0000n],
    ['a small low half with a high half', [5, 0, 0, 0, 1, 0, 0, 0], 0x1_0000_0005n],
    ['all ones', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0xffff_ffff_ffff_ffffn],
    ['a canonical kernel address', [0, 0x10, 0, 0, 0, 0x80, 0xff, 0xff], 0xffff_8000_0000_1000n],
  ])('%s', (_name, bytes, value) => {
    const buffer = new Uint8Array([0xaa, ...bytes, 0xbb])
    const view = new DataView(buffer.buffer)
    expect(readU64(view, 1)).toBe(value)
    expect(readU64(view, 1)).toBe(view.getBigUint64(1, true))
  })
})

describe('smallBigInt', () => {
  it.each([0, 1, 0xff, 0x100, 0xc093, 0xffff, 0x1_0082, 0x1_ffff])('BigInt(%i), shared', (n) => {
    expect(smallBigInt(n)).toBe(BigInt(n))
    expect(smallBigInt(n)).toBe(smallBigInt(n))
  })

  it('empties its table when full and keeps sharing later values', () => {
    for (let n = 256; n < 256 + 3 * SMALL_BIGINTS_KEPT; n++) {
      expect(smallBigInt(n)).toBe(BigInt(n))
      expect(smallBigIntsHeld()).toBeLessThanOrEqual(SMALL_BIGINTS_KEPT)
    }
    const held = smallBigIntsHeld()
    const fresh = 0x1_f000
    expect(smallBigInt(fresh)).toBe(BigInt(fresh))
    expect(smallBigIntsHeld()).toBe(held === SMALL_BIGINTS_KEPT ? 1 : held + 1)
    smallBigInt(fresh)
    expect(smallBigIntsHeld()).toBe(held === SMALL_BIGINTS_KEPT ? 1 : held + 1)
  })
})
