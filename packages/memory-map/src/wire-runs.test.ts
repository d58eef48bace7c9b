import { describe, expect, it } from 'vitest'
import { VtlError } from '@vtl/core'
import { svgRunToWireRun, wireRunToSvgRun, wireRunsSvgInput } from './wire-runs.js'

const RUN = {
  start: '0x10000',
  size: '0x2000',
  kind: 'ram',
  visibility: 'shared',
  accepted: false,
  locked: true,
  vtl0: 'none',
  vtl1: 'r-x-',
  overlay: { vtl0: false, vtl1: true },
}

describe('wireRunToSvgRun', () => {
  it('reads a run as vtld sends it (none: no VALID attributes; rwxu text otherwise)', () => {
    expect(wireRunToSvgRun(RUN)).toEqual({
      start: 0x10000n,
      end: 0x12000n,
      state: {
        kind: 'ram',
        shared: true,
        accepted: false,
        locked: true,
        overlay: { vtl0: false, vtl1: true },
        vtl0: undefined,
        vtl1: 0x5,
      },
    })
  })

  it.each<[string, unknown]>([
    ['a start beyond 64 bits', { ...RUN, start: '0x10000000000000000' }],
    ['a visibility that is not one', { ...RUN, visibility: 'host' }],
    ['rights as a number', { ...RUN, vtl1: 5 }],
  ])('refuses %s with E_INVALID_VALUE by default', (_name, run) => {
    let thrown: unknown
    try {
      wireRunToSvgRun(run)
    } catch (error) {
      thrown = error
    }
    expect(VtlError.isInstance(thrown)).toBe(true)
    expect(thrown).toMatchObject({ code: 'E_INVALID_VALUE' })
  })

  it('throws the caller’s error when it passes a factory', () => {
    const fail = (what: string): Error => new RangeError(what)
    expect(() => wireRunToSvgRun({ ...RUN, kind: 'rom' }, fail)).toThrow(
      new RangeError('a run kind')
    )
    expect(() => wireRunsSvgInput([RUN, 'x'], 0n, fail)).toThrow(new RangeError('a run'))
  })
})

describe('svgRunToWireRun', () => {
  it.each([
    ['shared, locked, no VALID attributes for VTL0', RUN],
    [
      'private and accepted, read-only for VTL0',
      {
        ...RUN,
        visibility: 'private',
        accepted: true,
        locked: false,
        vtl0: 'r---',
        vtl1: 'rwxu',
        overlay: { vtl0: true, vtl1: false },
      },
    ],
  ])('writes back what wireRunToSvgRun read (%s)', (_name, run) => {
    expect(svgRunToWireRun(wireRunToSvgRun(run))).toEqual(run)
  })

  it('keeps the bits that are not letters, as vtld does', () => {
    const run = wireRunToSvgRun(RUN)
    expect(svgRunToWireRun({ ...run, state: { ...run.state, vtl1: 0x1f } }).vtl1).toBe('rwxu+0x10')
  })
})
