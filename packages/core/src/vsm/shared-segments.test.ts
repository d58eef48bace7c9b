import { describe, expect, it } from 'vitest'
import { SHARED_REGISTERS_KEPT, sharedSegment, sharedTable } from './shared-segments.js'

describe('shared segment and table registers', () => {
  it('gives one frozen object per value, equal to what it was given', () => {
    const flat = { base: 0n, limit: 0xffff_ffff, selector: 0x10, attributes: 0xc093 }
    const a = sharedSegment({ ...flat })
    expect(a).toEqual(flat)
    expect(Object.isFrozen(a)).toBe(true)
    expect(sharedSegment({ ...flat })).toBe(a)
  })

  it.each([
    ['base', { base: 0x1000n }],
    ['limit', { limit: 0xfffff }],
    ['selector', { selector: 0x18 }],
    ['attributes', { attributes: 0xa09b }],
  ])('tells segments apart by %s', (_name, change) => {
    const flat = { base: 0n, limit: 0xffff_ffff, selector: 0x10, attributes: 0xc093 }
    const other = sharedSegment({ ...flat, ...change })
    expect(other).not.toBe(sharedSegment(flat))
    expect(other).toEqual({ ...flat, ...change })
  })

  it('shares table registers by base and limit', () => {
    const gdtr = sharedTable({ limit: 0x27, base: 0xffff_8000_0000_1000n })
    expect(sharedTable({ limit: 0x27, base: 0xffff_8000_0000_1000n })).toBe(gdtr)
    expect(sharedTable({ limit: 0x2f, base: 0xffff_8000_0000_1000n })).not.toBe(gdtr)
    expect(Object.isFrozen(gdtr)).toBe(true)
  })

  // The tables are process-wide: values a long-lived process saw once must not fill them for good.
  it('keeps sharing new segments after more distinct values than the table holds', () => {
    for (let n = 0; n <= 2 * SHARED_REGISTERS_KEPT; n++) {
      sharedSegment({ base: BigInt(n) << 12n, limit: 0xfff, selector: 0x7f8, attributes: 0x93 })
    }
    const given = { base: 0xdead_0000n, limit: 0xfff, selector: 0x7f8, attributes: 0x93 }
    const shared = sharedSegment(given)
    expect(shared).not.toBe(given)
    expect(Object.isFrozen(shared)).toBe(true)
    expect(sharedSegment({ ...given })).toBe(shared)
  })

  it('keeps sharing new table registers after more distinct values than the table holds', () => {
    for (let n = 0; n <= 2 * SHARED_REGISTERS_KEPT; n++) {
      sharedTable({ limit: 0x7f8, base: BigInt(n) << 12n })
    }
    const given = { limit: 0x7f8, base: 0xdead_0000n }
    const shared = sharedTable(given)
    expect(shared).not.toBe(given)
    expect(Object.isFrozen(shared)).toBe(true)
    expect(sharedTable({ ...given })).toBe(shared)
  })
})
