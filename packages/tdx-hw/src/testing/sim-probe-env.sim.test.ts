import { describe, expect, it } from 'vitest'
import { probe } from '../probe/probe.js'
import { HwTd } from './hw-td.js'
import { SimKernel } from './sim-kernel.js'
import { simKernelProbeEnv } from './sim-probe-env.js'

describe('simKernelProbeEnv', () => {
  it('the probe passes on a SimKernel, its extension checks answered by the kernel', () => {
    const kernel = new SimKernel()
    const result = probe(simKernelProbeEnv(kernel))
    expect(result.tdxGuest).toMatchObject({ ok: true, cpuFlag: true })
    expect(result.ffi.ok).toBe(true)
    expect(result.mshvVtl.ok).toBe(true)
    expect(result.mshvVtl.extensions?.LOWER_VTL_TIMER_VIRT).toBe(1)
    const usable = result.devices.filter((d) => d.usable.ok).map((d) => d.path)
    expect(usable).toEqual(['/dev/mshv', '/dev/mshv_hvcall'])
    expect(kernel.opens.map((o) => o.path)).toContain('/dev/mshv')
    expect(kernel.leaks).toEqual([])
  })
})

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
