import { accessSync, constants, existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { FakeSyscalls } from '../test/fake-syscalls.js'
import { formatProbe } from './format-probe.js'
import type { ProbeEnv } from './probe-env.js'
import { probe } from './probe.js'

function env(overrides: Partial<ProbeEnv> & { nodes?: string[] }): ProbeEnv {
  const nodes = new Set(overrides.nodes ?? [])
  return {
    exists: (path) => nodes.has(path),
    accessDenied: () => undefined,
    readText: (path) =>
      path === '/proc/sys/kernel/osrelease' ? '6.18.44\n' : 'flags\t\t: fpu vme sse2\n',
    uid: () => 1000,
    arch: () => 'x64',
    syscalls: () => new FakeSyscalls([...nodes]),
    ...overrides,
  }
}

describe('probe', () => {
  it('says no, with a reason, for everything a bare host lacks', () => {
    const result = probe(env({}))
    expect(result.host).toEqual({ kernel: '6.18.44', arch: 'x64', uid: 1000, root: false })
    for (const device of result.devices) {
      expect(device.usable).toEqual({ ok: false, reason: `${device.path} does not exist` })
    }
    expect(result.mshvVtl).toMatchObject({
      ok: false,
      reason: expect.stringContaining('OpenHCL') as unknown,
    })
    expect(result.kvm.usable).toMatchObject({ ok: false })
    expect(result.tdxGuest).toMatchObject({ ok: false, cpuFlag: false, device: false })
    // JSON-serialisable as is.
    expect(JSON.parse(JSON.stringify(result))).toEqual(result)
    const text = formatProbe(result)
    expect(text).toContain('/dev/mshv              no — /dev/mshv does not exist')
    expect(text).toContain('TDX guest')
    expect(text.split('\n').filter((l) => l.includes('no —')).length).toBeGreaterThanOrEqual(8)
  })

  it('names a permission problem and the missing FFI', () => {
    const result = probe(
      env({
        nodes: ['/dev/kvm'],
        accessDenied: () => 'EACCES',
        syscalls: () => 'koffi (the FFI used to call libc) cannot be loaded',
      })
    )
    expect(result.devices.find((d) => d.path === '/dev/kvm')?.usable).toEqual({
      ok: false,
      reason: '/dev/kvm: EACCES (not root; mshv nodes are 0600 root)',
    })
    expect(result.ffi).toMatchObject({
      ok: false,
      reason: expect.stringContaining('koffi') as unknown,
    })
  })

  it('sees a TD guest by its CPU flag or /dev/tdx_guest', () => {
    const flagged = probe(env({ readText: () => 'flags\t\t: fpu tdx_guest sse2\n' }))
    expect(flagged.tdxGuest).toMatchObject({ ok: true, cpuFlag: true })
    expect(probe(env({ nodes: ['/dev/tdx_guest'] })).tdxGuest).toMatchObject({
      ok: true,
      device: true,
    })
  })

  it('reads mshv_vtl extensions through the seam when /dev/mshv is there', () => {
    const result = probe(
      env({
        nodes: ['/dev/mshv'],
        syscalls: () => {
          const fake = new FakeSyscalls(['/dev/mshv'])
          fake.onIoctl = ({ arg }) => (arg instanceof Uint8Array && arg[0] === 4 ? -95 : 1)
          return fake
        },
      })
    )
    expect(result.mshvVtl).toMatchObject({
      ok: true,
      extensions: { CORE_API_STABLE: 1, DR6_SHARED: 1, LOWER_VTL_TIMER_VIRT: null },
    })
  })

  it('answers KVM questions through the seam (TDX type listed → TDX capabilities)', () => {
    const fake = new FakeSyscalls(['/dev/kvm'])
    fake.onIoctl = ({ request, arg, fake: k }) => {
      if (request === 0xae00) return 12
      if (request === 0xae01) return k.newFd('anon:kvm-vm')
      if (request === 0xae03) return arg === 235 ? 0b10_0001 : arg === 234 ? 1 : 0
      return -25
    }
    const result = probe(env({ nodes: ['/dev/kvm'], syscalls: () => fake }))
    expect(result.kvm).toMatchObject({
      usable: { ok: true },
      apiVersion: 12,
      vmTypes: { mask: 0x21, names: ['DEFAULT', 'TDX'] },
      guestMemfd: { ok: true },
    })
    // KVM_TDX_CAPABILITIES failed with ENOTTY: the type is listed but unusable, with the reason.
    expect(result.kvm.tdxVmType).toMatchObject({
      ok: false,
      reason: expect.stringContaining('ENOTTY') as unknown,
    })
    expect(fake.leaks).toEqual([])
  })
})

function hostKvm(): string | undefined {
  if (!existsSync('/dev/kvm')) return 'no /dev/kvm'
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK)
  } catch {
    return 'no permission on /dev/kvm'
  }
  return undefined
}
const missing = hostKvm()

describe.skipIf(missing !== undefined)(
  `probe of this host${missing === undefined ? '' : ` [skipped: ${missing}]`}`,
  () => {
    it('finds KVM with API 12 and prints every answer', () => {
      const result = probe()
      expect(result.kvm.apiVersion).toBe(12)
      expect(result.kvm.vmTypes?.names).toContain('DEFAULT')
      expect(formatProbe(result)).toContain('KVM                    yes (API 12')
    })
  }
)
