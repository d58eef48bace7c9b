import { describe, expect, it } from 'vitest'
import { HwTd } from './hw-td.js'

describe('HwTd.actingVtl', () => {
  it('handles the wakes a step would, then answers the VTL the step acts at', async () => {
    const td = await HwTd.create({ vps: 2, memory: 16n << 20n, startedVps: [0] })
    expect(td.actingVtl(0)).toBe(0)
    // VP 1 was never started: it is still in VTL0, waiting for SIPI.
    expect(td.actingVtl(1)).toBe(0)
    const { vtl, result } = await td.step(1, { kind: 'run' })
    expect(vtl).toBe(0)
    expect(result.error).toBe('VpNotRunning')
    await td.close()
  })
})

describe('HwTd hypercallPages', () => {
  it('refuses a pair it cannot use, naming the field, before opening anything', async () => {
    await expect(
      HwTd.create({ vps: 1, memory: 1n << 20n, hypercallPages: { input: 0x800n, output: 0x0n } })
    ).rejects.toMatchObject({ code: 'E_FIELD_RANGE', field: 'hypercallPages.input' })
  })
})
