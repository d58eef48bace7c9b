import { describe, expect, it } from 'vitest'
import { formatPermissionText } from '@vtl/core'
import { formatHex } from '@vtl/core/schemas'
import { GpaSpace } from '@vtl/memory'
import { daemonRunToSvgRun, daemonRunsSvgInput } from './daemon-runs.js'
import { collectRuns, renderRunsSvg, type GpaSvgRun } from '@vtl/memory-map'

const RUN = {
  start: '0x10000',
  size: '0x1000',
  kind: 'ram',
  visibility: 'private',
  accepted: true,
  locked: false,
  vtl0: 'r---',
  vtl1: 'rwxu',
  overlay: { vtl0: false, vtl1: false },
}

const STATE: GpaSvgRun['state'] = {
  kind: 'ram',
  shared: false,
  accepted: true,
  locked: false,
  overlay: { vtl0: false, vtl1: false },
  vtl0: 0x1,
  vtl1: 0xf,
}

describe('daemonRunToSvgRun', () => {
  it.each<[string, Record<string, unknown>, Partial<GpaSvgRun['state']>]>([
    ['a read-only page for VTL0', {}, {}],
    ['no access', { vtl0: '----' }, { vtl0: 0 }],
    [
      'none: no VALID attributes',
      { vtl0: 'none', vtl1: 'none' },
      { vtl0: undefined, vtl1: undefined },
    ],
    ['shorter text', { vtl0: 'rw' }, { vtl0: 0x3 }],
    [
      'shared, not accepted',
      { visibility: 'shared', accepted: false },
      { shared: true, accepted: false },
    ],
    ['locked', { locked: true }, { locked: true }],
    [
      'a VTL1 overlay',
      { overlay: { vtl0: false, vtl1: true } },
      { overlay: { vtl0: false, vtl1: true } },
    ],
    ['MMIO', { kind: 'mmio' }, { kind: 'mmio' }],
    ['not RAM', { kind: 'none' }, { kind: 'none' }],
  ])('%s', (_name, wire, state) => {
    expect(daemonRunToSvgRun({ ...RUN, ...wire })).toEqual({
      start: 0x10000n,
      end: 0x11000n,
      state: { ...STATE, ...state },
    })
  })

  it.each<[string, unknown]>([
    ['not an object', 'run'],
    ['a decimal start', { ...RUN, start: 65536 }],
    ['no size', { ...RUN, size: undefined }],
    ['an unknown kind', { ...RUN, kind: 'rom' }],
    ['an unknown visibility', { ...RUN, visibility: 'host' }],
    ['accepted as text', { ...RUN, accepted: 'yes' }],
    ['no locked flag', { ...RUN, locked: undefined }],
    ['no overlay', { ...RUN, overlay: undefined }],
    ['flag names instead of rwxu', { ...RUN, vtl0: 'R W' }],
    ['a duplicate letter', { ...RUN, vtl1: 'rr' }],
    ['a number', { ...RUN, vtl1: 15 }],
  ])('refuses %s (E_BAD_ANSWER)', (_name, run) => {
    expect(() => daemonRunToSvgRun(run)).toThrow(
      expect.objectContaining({ code: 'E_BAD_ANSWER', exitCode: 1 }) as Error
    )
  })
})

describe('daemonRunsSvgInput', () => {
  it('covers the runs, or an empty range at start when there are none', () => {
    const second = { ...RUN, start: '0x11000', size: '0x3000', vtl0: 'rwxu' }
    expect(daemonRunsSvgInput([RUN, second])).toMatchObject({ start: 0x10000n, end: 0x14000n })
    expect(daemonRunsSvgInput([], 0x5000n)).toEqual({ runs: [], start: 0x5000n, end: 0x5000n })
  })

  it('draws the same picture as the runs of the GpaSpace the daemon answered from', () => {
    const space = new GpaSpace({ ram: [{ start: 0n, end: 1n << 24n }] })
    space.mark({ start: 0n, end: 1n << 24n }, { accepted: true, vtl0: 0xf, vtl1: 0xf })
    space.mark({ start: 0x10000n, size: 0x1000n }, { accepted: true, vtl0: 0x1, vtl1: 0xf })
    space.mark(
      { start: 0x200000n, size: 0x10000n },
      { accepted: false, shared: true, vtl0: null, vtl1: null }
    )
    space.lock({ start: 0x300000n, size: 0x1000n })
    const embedded = collectRuns(space)
    // The runs as GET …/memory/runs puts them on the wire.
    const wire = embedded.runs.map(({ start, end, state }) => ({
      start: formatHex(start),
      size: formatHex(end - start),
      kind: state.kind,
      visibility: state.shared ? 'shared' : 'private',
      accepted: state.accepted,
      locked: state.locked,
      vtl0: formatPermissionText(state.vtl0),
      vtl1: formatPermissionText(state.vtl1),
      overlay: state.overlay,
    }))
    expect(renderRunsSvg(daemonRunsSvgInput(wire))).toBe(renderRunsSvg(embedded))
  })
})
