import { probe, type ProbeResult } from '@vtl/tdx-hw'
import { describe, expect, it } from 'vitest'
import { BackendRefusedError, checkBackend, hwProbeRefusals, openHwTd } from '../src/backend.js'

const yes = { ok: true } as const
const no = (reason: string) => ({ ok: false, reason }) as const

/** A probe where everything the paravisor path needs is there. */
function passing(): ProbeResult {
  return {
    host: { kernel: '6.6.0-openhcl', arch: 'x64', uid: 0, root: true },
    ffi: yes,
    devices: ['/dev/mshv', '/dev/mshv_hvcall', '/dev/kvm'].map((path) => ({
      path,
      present: true,
      usable: yes,
    })),
    mshvVtl: { ok: true, extensions: {} },
    kvm: { usable: yes, tdxVmType: yes, guestMemfd: yes, privateMemoryAttributes: yes },
    tdxGuest: { ok: true, cpuFlag: true, device: true },
  }
}

async function refusal(run: Promise<unknown>): Promise<BackendRefusedError> {
  const error: unknown = await run.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(BackendRefusedError)
  return error as BackendRefusedError
}

describe('--backend', () => {
  it('sim always starts', async () => {
    await expect(checkBackend('sim', () => passing())).resolves.toEqual({ kind: 'sim' })
  })

  it('hw refuses on this machine with the real probe’s reasons (no TDX here)', async () => {
    const reasons = hwProbeRefusals(probe())
    expect(reasons.length).toBeGreaterThan(0)
    const error = await refusal(checkBackend('hw'))
    expect(error.code).toBe('E_BACKEND_REFUSED')
    expect(error.reasons).toEqual(reasons)
    expect(error.reasons.some((r) => r.startsWith('TDX guest: '))).toBe(true)
  })

  it.each([
    {
      what: 'not a TD guest',
      change: (p: ProbeResult): ProbeResult => ({
        ...p,
        tdxGuest: { ...no('no tdx_guest flag'), cpuFlag: false, device: false },
      }),
      reasons: ['TDX guest: no tdx_guest flag'],
    },
    {
      what: 'no FFI and no mshv_vtl',
      change: (p: ProbeResult): ProbeResult => ({
        ...p,
        ffi: no('koffi missing'),
        mshvVtl: no('/dev/mshv does not exist'),
      }),
      reasons: ['FFI: koffi missing', 'mshv_vtl (VTL2 kernel): /dev/mshv does not exist'],
    },
    {
      what: 'no hvcall device',
      change: (p: ProbeResult): ProbeResult => ({
        ...p,
        devices: p.devices.filter((d) => d.path !== '/dev/mshv_hvcall'),
      }),
      reasons: ['/dev/mshv_hvcall: not probed'],
    },
  ])('hw refuses with an injected probe: $what', async ({ change, reasons }) => {
    const error = await refusal(checkBackend('hw', () => change(passing())))
    expect(error.reasons).toEqual(reasons)
    expect(error.message.split('\n').slice(1)).toEqual(reasons.map((r) => `  ${r}`))
  })

  it('hw serves the hardware path where the probe passes', async () => {
    expect(hwProbeRefusals(passing())).toEqual([])
    await expect(checkBackend('hw', () => passing())).resolves.toEqual({
      kind: 'hw',
      open: openHwTd,
    })
  })
})
