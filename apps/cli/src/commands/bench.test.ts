import { describe, expect, it } from 'vitest'
import { parseBenchDocument, verdict, type BenchResultRow } from './bench.js'

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
