import { describe, expect, it } from 'vitest'
import { formatBenchMarkdown, parseBenchDocument, verdict, type BenchResultRow } from './bench.js'

const row = (over: Partial<BenchResultRow>): BenchResultRow => ({
  id: 'x.y',
  value: 10,
  unit: 'ops/s',
  better: 'higher',
  samples: 1,
  rme: 0,
  ...over,
})

describe('verdict', () => {
  it('compares a same-unit target with the value in the better direction', () => {
    expect(verdict(row({ target: { value: 10, unit: 'ops/s' } }))).toBe('met')
    expect(verdict(row({ target: { value: 11, unit: 'ops/s' } }))).toBe('missed')
    expect(verdict(row({ better: 'lower', unit: 'ms', target: { value: 9, unit: 'ms' } }))).toBe(
      'missed'
    )
    expect(verdict(row({ better: 'lower', unit: 'ms', target: { value: 10, unit: 'ms' } }))).toBe(
      'met'
    )
  })

  it('compares a target relative to the baseline with the ratio', () => {
    const hw = {
      unit: 'ns',
      value: 218,
      better: 'lower' as const,
      target: { value: 1.5, unit: 'x baseline' },
    }
    expect(verdict(row({ ...hw, ratio: 1.75 }))).toBe('missed')
    expect(verdict(row({ ...hw, ratio: 1.2 }))).toBe('met')
    expect(verdict(row(hw))).toBe('no target')
  })

  it('has no verdict without a target', () => {
    expect(verdict(row({}))).toBe('no target')
  })
})

describe('parseBenchDocument', () => {
  it('names the first problem', () => {
    expect(() =>
      parseBenchDocument(
        { version: 1, machine: {}, startedAt: 'x', results: [{ id: 1 }] },
        'f.json'
      )
    ).toThrow('f.json: not a bench results document (results[0].id)')
  })
})

describe('formatBenchMarkdown', () => {
  const doc = {
    version: 1 as const,
    machine: { cpus: 2, cpuModel: 'Xeon', node: 'v20.20.2', os: 'linux x64' },
    startedAt: '2026-11-26T10:00:00Z',
    results: [
      row({
        id: 'sim.vtl-round-trip',
        value: 900_000,
        target: { value: 1_000_000, unit: 'ops/s' },
        baseline: { id: 'sim.empty-dispatch', value: 4_000_000, unit: 'ops/s' },
        ratio: 0.225,
        note: 'a | b',
      }),
      row({ id: 'memory.bytes-per-fragment', value: 32.1, unit: 'B', better: 'lower' }),
    ],
  }

  it('writes one table row per figure with its verdict, baseline and ratio, and the machine', () => {
    const md = formatBenchMarkdown(doc)
    expect(md).toContain(
      'Machine: Xeon × 2, Node v20.20.2, linux x64. Run started 2026-11-26T10:00:00Z.'
    )
    expect(md).toContain(
      '| `sim.vtl-round-trip` | 900,000 ops/s | ≥ 1,000,000 ops/s | **missed** | `sim.empty-dispatch` 4,000,000 ops/s | 0.225× | ±0.0% (1) | a \\| b |'
    )
    expect(md).toContain('| `memory.bytes-per-fragment` | 32.1 B |  |  |  |  | ±0.0% (1) |  |')
    expect(md).toContain('0 met, 1 missed, 1 without a target.')
  })
})
