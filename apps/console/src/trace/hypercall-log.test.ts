import { describe, expect, it } from 'vitest'
import recorded from '../fixtures/recorded-trace.json'
import type { TraceEvent } from './events.js'
import { filterRows, hypercallRow, NO_FILTER, type HypercallRow } from './hypercall-log.js'

const rows = (recorded as TraceEvent[])
  .map(hypercallRow)
  .filter((r): r is HypercallRow => r !== undefined)

describe('the hypercall log over recorded events', () => {
  it('lists the guest’s calls with caller, status, reps and cost', () => {
    const shown = filterRows(rows, NO_FILTER)
    expect(shown.map((r) => `${r.vp}/${r.vtl} ${r.name} ${r.status}`)).toEqual([
      '0/0 EnablePartitionVtl Success',
      '0/0 EnableVpVtl Success',
      '0/0 VtlCall Success',
      '0/1 SetVpRegisters Success',
      '0/1 ModifyVtlProtectionMask Success',
      '0/1 VtlReturn Success',
      '0/0 EnablePartitionVtl InvalidVtlState',
      '0/0 StartVirtualProcessor Success',
    ])
    expect(shown[4]).toMatchObject({ code: 0x0c, reps: '1/1', cycles: 3300 })
  })

  it.each<[string, Partial<typeof NO_FILTER>, string[]]>([
    ['failed only', { outcome: 'failed' }, ['EnablePartitionVtl']],
    ['VTL1 only', { vtl: 1 }, ['SetVpRegisters', 'ModifyVtlProtectionMask', 'VtlReturn']],
    ['by name, any case', { name: 'enablep' }, ['EnablePartitionVtl', 'EnablePartitionVtl']],
    ['VP 1 (none)', { vp: 1 }, []],
    ['with forwards, VTL2 only', { forwards: true, vtl: 2 }, ['EnablePartitionVtl', 'EnableVpVtl']],
  ])('filters: %s', (_name, filter, names) => {
    expect(filterRows(rows, { ...NO_FILTER, ...filter }).map((r) => r.name)).toEqual(names)
  })
})
