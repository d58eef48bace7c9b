import { toVtlError } from '@vtl/core'
import { KvmDevice, vmTypeNames } from '../devices/kvm-device.js'
import { MshvDevice } from '../devices/mshv-device.js'
import { KvmCap, KvmVmType, type KvmCapName } from '../uapi/kvm-requests.js'
import { MshvCapability, type MshvCapabilityName } from '../uapi/mshv-requests.js'
import { hostProbeEnv, type ProbeEnv } from './probe-env.js'

/** A yes/no answer; every "no" carries its reason. */
export type Check = { ok: true; detail?: string } | { ok: false; reason: string }

export interface DeviceProbe {
  path: string
  present: boolean
  /** Present and openable read/write by this process. */
  usable: Check
}

export interface KvmProbe {
  usable: Check
  apiVersion?: number
  vmTypes?: { mask: number; names: string[] }
  caps?: Partial<Record<KvmCapName, number>>
  tdxVmType: Check
  guestMemfd: Check
  privateMemoryAttributes: Check
  /** KVM_TDX_CAPABILITIES, when a TDX VM could be created. */
  tdx?: { supportedAttrs: string; supportedXfam: string; cpuidEntries: number }
}

export interface ProbeResult {
  host: { kernel: string | null; arch: string; uid: number | null; root: boolean }
  ffi: Check
  devices: DeviceProbe[]
  mshvVtl: Check & { extensions?: Partial<Record<MshvCapabilityName, number | null>> }
  kvm: KvmProbe
  tdxGuest: Check & { cpuFlag: boolean; device: boolean }
}

export const PROBED_DEVICES = [
  '/dev/mshv',
  '/dev/mshv_hvcall',
  '/dev/mshv_sint',
  '/dev/mshv_vtl_low',
  '/dev/kvm',
  '/dev/tdx_guest',
] as const

const no = (reason: string): Check => ({ ok: false, reason })

function reasonOf(error: unknown): string {
  return toVtlError(error).message
}

/** What this host offers for VSM on TDX. Never throws: every failure becomes a reason. */
export function probe(env: ProbeEnv = hostProbeEnv()): ProbeResult {
  const uid = env.uid() ?? null
  const sys = env.syscalls()
  const ffi: Check = typeof sys === 'string' ? no(sys) : { ok: true, detail: 'koffi + libc' }
  const devices = PROBED_DEVICES.map((path): DeviceProbe => {
    const present = env.exists(path)
    const denied = present ? env.accessDenied(path) : undefined
    const usable: Check = !present
      ? no(`${path} does not exist`)
      : denied !== undefined
        ? no(`${path}: ${denied}${uid === 0 ? '' : ' (not root; mshv nodes are 0600 root)'}`)
        : { ok: true }
    return { path, present, usable }
  })
  const usable = (path: string): Check =>
    devices.find((d) => d.path === path)?.usable ?? no(`${path} not probed`)

  const cpuinfo = env.readText('/proc/cpuinfo') ?? ''
  const cpuFlag = /^flags\s*:.*\btdx_guest\b/m.test(cpuinfo)
  const tdxDevice = env.exists('/dev/tdx_guest')
  const tdxGuest =
    cpuFlag || tdxDevice
      ? { ok: true as const, cpuFlag, device: tdxDevice }
      : {
          ok: false as const,
          reason: 'no tdx_guest flag in /proc/cpuinfo and no /dev/tdx_guest: not a TD guest',
          cpuFlag,
          device: tdxDevice,
        }

  return {
    host: {
      kernel: env.readText('/proc/sys/kernel/osrelease')?.trim() ?? null,
      arch: env.arch(),
      uid,
      root: uid === 0,
    },
    ffi,
    devices,
    mshvVtl: probeMshv(sys, usable('/dev/mshv'), env),
    kvm: probeKvm(sys, usable('/dev/kvm')),
    tdxGuest,
  }
}

function probeMshv(
  sys: ReturnType<ProbeEnv['syscalls']>,
  device: Check,
  env: ProbeEnv
): ProbeResult['mshvVtl'] {
  if (!device.ok) {
    const driver = env.exists('/sys/module/mshv_vtl') ? '' : '; mshv_vtl driver not loaded'
    return no(`${device.reason}${driver} (only an OpenHCL VTL2 kernel has it)`)
  }
  if (typeof sys === 'string') return no(sys)
  let mshv: MshvDevice | undefined
  try {
    mshv = MshvDevice.open(sys)
    const extensions: Partial<Record<MshvCapabilityName, number | null>> = {}
    for (const name of Object.keys(MshvCapability) as MshvCapabilityName[]) {
      try {
        extensions[name] = mshv.checkExtension(name)
      } catch {
        extensions[name] = null
      }
    }
    return { ok: true, extensions }
  } catch (error) {
    return no(reasonOf(error))
  } finally {
    mshv?.close()
  }
}

function probeKvm(sys: ReturnType<ProbeEnv['syscalls']>, device: Check): KvmProbe {
  const unknown = no('KVM not usable')
  if (!device.ok || typeof sys === 'string') {
    const reason = !device.ok ? device.reason : sys
    return {
      usable: no(reason as string),
      tdxVmType: unknown,
      guestMemfd: unknown,
      privateMemoryAttributes: unknown,
    }
  }
  let kvm: KvmDevice | undefined
  try {
    kvm = KvmDevice.open(sys)
    const apiVersion = kvm.apiVersion()
    const caps: Partial<Record<KvmCapName, number>> = {}
    for (const name of Object.keys(KvmCap) as KvmCapName[]) caps[name] = kvm.checkExtension(name)
    const mask = kvm.vmTypes()
    const hasTdx = (mask & (1 << KvmVmType.TDX)) !== 0
    const result: KvmProbe = {
      usable: apiVersion === 12 ? { ok: true } : no(`KVM API version ${apiVersion}, expected 12`),
      apiVersion,
      vmTypes: { mask, names: vmTypeNames(mask) },
      caps,
      tdxVmType: hasTdx
        ? { ok: true }
        : no(`KVM_CAP_VM_TYPES = 0x${mask.toString(16)} lacks bit 5 (KVM_X86_TDX_VM)`),
      guestMemfd:
        (caps.GUEST_MEMFD ?? 0) > 0
          ? { ok: true, detail: `flags 0x${(caps.GUEST_MEMFD_FLAGS ?? 0).toString(16)}` }
          : no('KVM_CAP_GUEST_MEMFD is 0'),
      privateMemoryAttributes:
        ((caps.MEMORY_ATTRIBUTES ?? 0) & 8) !== 0
          ? { ok: true }
          : no('KVM_CAP_MEMORY_ATTRIBUTES lacks PRIVATE (no KVM_SET_MEMORY_ATTRIBUTES conversion)'),
    }
    if (hasTdx) {
      try {
        const vm = kvm.createVm('TDX')
        try {
          const tdx = vm.tdxCapabilities()
          result.tdx = {
            supportedAttrs: `0x${tdx.supportedAttrs.toString(16)}`,
            supportedXfam: `0x${tdx.supportedXfam.toString(16)}`,
            cpuidEntries: tdx.cpuid.length,
          }
        } finally {
          vm.close()
        }
      } catch (error) {
        result.tdxVmType = no(`TDX VM type listed but unusable: ${reasonOf(error)}`)
      }
    }
    return result
  } catch (error) {
    return {
      usable: no(reasonOf(error)),
      tdxVmType: unknown,
      guestMemfd: unknown,
      privateMemoryAttributes: unknown,
    }
  } finally {
    kvm?.close()
  }
}
