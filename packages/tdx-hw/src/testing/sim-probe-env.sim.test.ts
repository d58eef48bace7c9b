import { describe, expect, it } from 'vitest'
import { probe } from '../probe/probe.js'
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
