import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { VtlErrorCode } from '../errors/vtl-error.js'
import { expectVtlError } from '../hv/testing/arbitraries.js'
import {
  checkGpaBounds,
  checkGpaRange,
  checkGpn,
  checkGpnRange,
  isPageAligned,
} from './gpa-range.js'

const GiB = 1n << 30n

describe('checkGpaRange(start, size, width)', () => {
  it.each([
    [0n, 0x1000n, 48, 0n, 1n],
    [0x20_0000n, 64n << 20n, 48, 0x200n, 0x4000n],
    [(1n << 48n) - 0x1000n, 0x1000n, 48, (1n << 36n) - 1n, 1n],
    [0n, 1n << 52n, 52, 0n, 1n << 40n],
    [0n, 1n << 64n, 64, 0n, 1n << 52n],
  ])('[0x%s, +0x%s) in %i bits → pages', (start, size, width, startGpn, pageCount) => {
    expect(checkGpaRange(start, size, width)).toEqual({ startGpn, pageCount })
  })

  const failures: [string, bigint, bigint, number, VtlErrorCode, string][] = [
    ['empty', 0x1000n, 0n, 48, 'E_RANGE_EMPTY', 'size'],
    ['unaligned start', 0x1001n, 0x1000n, 48, 'E_UNALIGNED', 'start'],
    ['unaligned size', 0x1000n, 0x800n, 48, 'E_UNALIGNED', 'size'],
    ['end past 2^64', 0xffff_ffff_ffff_f000n, 0x2000n, 64, 'E_RANGE_OVERFLOW', 'size'],
    ['end past 2^48', (1n << 48n) - 0x1000n, 0x2000n, 48, 'E_BEYOND_GPA_WIDTH', 'size'],
    ['start past 2^48', 1n << 48n, 0x1000n, 48, 'E_BEYOND_GPA_WIDTH', 'start'],
    ['negative start', -0x1000n, 0x1000n, 48, 'E_FIELD_RANGE', 'start'],
    ['bad width', 0n, 0x1000n, 11, 'E_FIELD_RANGE', 'gpaWidth'],
    ['bad width', 0n, 0x1000n, 65, 'E_FIELD_RANGE', 'gpaWidth'],
  ]

  it.each(failures)('%s → %s', (_name, start, size, width, code, field) => {
    expectVtlError(() => checkGpaRange(start, size, width), code, field)
  })

  it('accepts exactly the ranges that fit (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }),
        fc.bigInt({ min: 1n, max: 1n << 36n }),
        fc.constantFrom(48, 52),
        (startGpn, pages, width) => {
          const start = startGpn << 12n
          const size = pages << 12n
          const fits = start + size <= 1n << BigInt(width)
          if (fits)
            expect(checkGpaRange(start, size, width)).toEqual({ startGpn, pageCount: pages })
          else expectVtlError(() => checkGpaRange(start, size, width), 'E_BEYOND_GPA_WIDTH')
        }
      )
    )
  })
})

describe('checkGpaBounds(start, end, width)', () => {
  it('converts [start, end) to pages', () => {
    expect(checkGpaBounds(GiB, 2n * GiB, 48)).toEqual({ startGpn: 0x40000n, pageCount: 0x40000n })
  })

  it('refuses reversed and empty bounds', () => {
    expectVtlError(() => checkGpaBounds(0x2000n, 0x1000n, 48), 'E_RANGE_REVERSED', 'end')
    expectVtlError(() => checkGpaBounds(0x2000n, 0x2000n, 48), 'E_RANGE_EMPTY')
  })
})

describe('checkGpnRange / checkGpn', () => {
  it('accepts runs inside the width', () => {
    expect(checkGpnRange(0n, 1n << 36n, 48)).toEqual({ startGpn: 0n, pageCount: 1n << 36n })
    expect(() => {
      checkGpn((1n << 36n) - 1n, 48)
    }).not.toThrow()
  })

  it.each([
    ['empty', 5n, 0n, 48, 'E_RANGE_EMPTY', 'pageCount'],
    ['past page 2^52', (1n << 52n) - 1n, 2n, 64, 'E_RANGE_OVERFLOW', 'pageCount'],
    ['past the width', (1n << 36n) - 1n, 2n, 48, 'E_BEYOND_GPA_WIDTH', 'pageCount'],
    ['starts past the width', 1n << 36n, 1n, 48, 'E_BEYOND_GPA_WIDTH', 'startGpn'],
    ['negative', -1n, 1n, 48, 'E_FIELD_RANGE', 'startGpn'],
  ] as [string, bigint, bigint, number, VtlErrorCode, string][])(
    '%s → %s',
    (_name, start, count, width, code, field) => {
      expectVtlError(() => checkGpnRange(start, count, width), code, field)
    }
  )

  it('isPageAligned', () => {
    expect(isPageAligned(0n)).toBe(true)
    expect(isPageAligned(0x3000n)).toBe(true)
    expect(isPageAligned(0x3008n)).toBe(false)
    expectVtlError(() => isPageAligned(-4096n), 'E_FIELD_RANGE')
  })
})
