import { describe, expect, it } from 'vitest'
import { parsePrometheus, sumBy } from './prometheus.js'

const TEXT = `# HELP vtl_vtl_switches_total VTL switches
# TYPE vtl_vtl_switches_total counter
vtl_vtl_switches_total 4
vtl_hypercalls_total{code="0x000d",name="EnablePartitionVtl",status="Success"} 1
vtl_hypercalls_total{code="0x000d",name="EnablePartitionVtl",status="InvalidVtlState"} 2
vtl_hypercalls_total{code="0x000f",name="EnableVpVtl",status="Success"} 3
vtl_tdcalls_total{leaf="TDG.VP.WR"} 12
vtl_hypercall_cycles_bucket{le="+Inf"} 6
weird{a="x\\"y"} NaN
`

describe('parsePrometheus', () => {
  it('reads samples with labels and sums them by a label', () => {
    const samples = parsePrometheus(TEXT)
    expect(samples).toHaveLength(6)
    expect(sumBy(samples, 'vtl_vtl_switches_total').get('')).toBe(4)
    expect([...sumBy(samples, 'vtl_hypercalls_total', 'status')]).toEqual([
      ['Success', 4],
      ['InvalidVtlState', 2],
    ])
    expect(sumBy(samples, 'vtl_tdcalls_total', 'leaf').get('TDG.VP.WR')).toBe(12)
    expect(samples.find((s) => s.name === 'vtl_hypercall_cycles_bucket')?.labels).toEqual({
      le: '+Inf',
    })
  })
})
