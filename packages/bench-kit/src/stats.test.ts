import { describe, expect, it } from 'vitest'
import { summarize } from './stats.js'

describe('summarize', () => {
  it('gives the mean and a 95 % relative margin of error', () => {
    const { mean, rme } = summarize([10, 12, 14])
    expect(mean).toBe(12)
    // sd = 2, sem = 2/sqrt(3), rme = 1.96 * sem / 12
    expect(rme).toBeCloseTo((1.96 * 2) / Math.sqrt(3) / 12, 12)
  })
  it('has no margin with fewer than two samples', () => {
    expect(summarize([5])).toEqual({ mean: 5, rme: 0 })
    expect(summarize([])).toEqual({ mean: 0, rme: 0 })
  })
})
