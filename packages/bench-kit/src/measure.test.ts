import { describe, expect, it, vi } from 'vitest'
import { sampleAll, throughputSample } from './measure.js'
import { runSuite } from './run.js'
import type { BenchSuite } from './suite.js'

describe('sampleAll', () => {
  it('records no value sample before the warm-up ones', async () => {
    let calls = 0
    const samples = await sampleAll(
      [{ kind: 'value', id: 'x.value', unit: 'ms', better: 'lower', sample: () => ++calls }],
      4
    )
    expect(samples.get('x.value')).toEqual([4, 5, 6, 7])
  })
})

describe('throughputSample', () => {
  it('runs an untimed eighth of the batch before the timed batch', () => {
    let calls = 0
    const rate = throughputSample({ kind: 'throughput', id: 'x.op', op: () => ++calls }, 80)
    expect(calls).toBe(90)
    expect(rate).toBeGreaterThan(0)
  })
})

/** A one-case suite of one recorded sample (after the warm-up ones). */
function valueSuite(sample: () => number, teardown: () => void): BenchSuite {
  return {
    name: 'x',
    samples: 1,
    cases: [{ kind: 'value', id: 'x.v', unit: 'ms', better: 'lower', sample }],
    teardown,
  }
}

describe('runSuite', () => {
  it('tears the suite down after its samples, also when one throws', async () => {
    const calls: string[] = []
    const suite = valueSuite(
      () => {
        calls.push('sample')
        if (calls.length > 2) throw new Error('server gone')
        return 1
      },
      () => {
        calls.push('teardown')
      }
    )
    await expect(runSuite(suite)).rejects.toThrow('server gone')
    expect(calls).toEqual(['sample', 'sample', 'sample', 'teardown'])
  })

  it("a teardown that throws after a failed sample does not hide the sample's error", async () => {
    let teardowns = 0
    const suite = valueSuite(
      () => {
        throw new Error('server gone')
      },
      () => {
        teardowns++
        throw new Error('ERR_IPC_CHANNEL_CLOSED')
      }
    )
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    try {
      await expect(runSuite(suite)).rejects.toThrow('server gone')
      expect(stderr).toHaveBeenCalledWith(expect.stringMatching(/teardown failed too.*IPC/))
    } finally {
      stderr.mockRestore()
    }
    expect(teardowns).toBe(1)
  })

  it("a teardown's error is the run's when every sample succeeded", async () => {
    const suite = valueSuite(
      () => 1,
      () => {
        throw new Error('stop failed')
      }
    )
    await expect(runSuite(suite)).rejects.toThrow('stop failed')
  })
})
