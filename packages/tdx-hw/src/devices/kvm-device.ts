import { VtlError } from '@vtl/core'
import {
  KVM_CPUID_ENTRY2_SIZE,
  KVM_TDX_CAPABILITIES_ENTRIES_OFFSET,
  KvmCpuidEntry2,
  KvmCreateGuestMemfd,
  KvmEnableCap,
  KvmMemoryAttributes,
  KvmTdxCapabilitiesHeader,
  KvmTdxCmdStruct,
  KvmUserspaceMemoryRegion2,
} from '../structs/kvm-structs.js'
import type { StructValue } from '../structs/struct-codec.js'
import type { Syscalls } from '../sys/syscalls.js'
import {
  KvmCap,
  KvmRequest,
  KvmTdxCmd,
  KvmVmType,
  type KvmCapName,
  type KvmVmTypeName,
} from '../uapi/kvm-requests.js'
import { DeviceFd, openFd, withMemory } from './device-fd.js'

export const KVM_PATH = '/dev/kvm'

function capId(cap: KvmCapName | number): number {
  return typeof cap === 'number' ? cap : KvmCap[cap]
}

/** The VM type names whose bits are set in a KVM_CAP_VM_TYPES answer. */
export function vmTypeNames(bitmask: number): KvmVmTypeName[] {
  return (Object.keys(KvmVmType) as KvmVmTypeName[]).filter(
    (name) => (bitmask & (1 << KvmVmType[name])) !== 0
  )
}

/** `/dev/kvm`: API version, capabilities, VM creation. */
export class KvmDevice extends DeviceFd {
  static open(sys: Syscalls, path = KVM_PATH): KvmDevice {
    return new KvmDevice(sys, openFd(sys, path), path, 'kvm')
  }

  apiVersion(): number {
    return this.ioctl(KvmRequest.KVM_GET_API_VERSION, 0)
  }

  /** 0 when the capability is absent or unknown to this kernel. */
  checkExtension(cap: KvmCapName | number): number {
    return this.ioctl(KvmRequest.KVM_CHECK_EXTENSION, capId(cap))
  }

  /** The creatable VM types as a `1 << type` mask; a kernel without the cap has only DEFAULT. */
  vmTypes(): number {
    return this.checkExtension('VM_TYPES') || 1 << KvmVmType.DEFAULT
  }

  vcpuMmapSize(): number {
    return this.ioctl(KvmRequest.KVM_GET_VCPU_MMAP_SIZE, 0)
  }

  /** KVM_CREATE_VM; an unsupported type fails in the kernel with IoctlError EINVAL. */
  createVm(type: KvmVmTypeName | number = 'DEFAULT'): KvmVm {
    const id = typeof type === 'number' ? type : KvmVmType[type]
    const fd = this.ioctl(KvmRequest.KVM_CREATE_VM, id)
    return new KvmVm(this.sys, fd, `anon:kvm-vm(type ${id})`, 'kvm-vm')
  }
}

export type UserMemoryRegion2 = Partial<StructValue<typeof KvmUserspaceMemoryRegion2.layout>>
export type MemoryAttributes = Omit<StructValue<typeof KvmMemoryAttributes.layout>, 'flags'>
export type CpuidEntry2 = StructValue<typeof KvmCpuidEntry2.layout>

export interface TdxCapabilities {
  supportedAttrs: bigint
  supportedXfam: bigint
  kernelTdvmcallinfo1R11: bigint
  userTdvmcallinfo1R11: bigint
  kernelTdvmcallinfo1R12: bigint
  userTdvmcallinfo1R12: bigint
  cpuid: CpuidEntry2[]
}

/** A guest_memfd: private (or shared, with MMAP) backing of a VM's memory. */
export class GuestMemfd extends DeviceFd {}

/** A VM fd from KVM_CREATE_VM. */
export class KvmVm extends DeviceFd {
  checkExtension(cap: KvmCapName | number): number {
    return this.ioctl(KvmRequest.KVM_CHECK_EXTENSION, capId(cap))
  }

  createGuestMemfd(size: bigint, flags = 0n): GuestMemfd {
    if (size <= 0n || size % 4096n !== 0n) {
      throw new VtlError(
        'E_UNALIGNED',
        `guest_memfd size ${size} is not a positive page multiple`,
        {
          field: 'size',
        }
      )
    }
    const fd = this.ioctl(
      KvmRequest.KVM_CREATE_GUEST_MEMFD,
      KvmCreateGuestMemfd.encode({ size, flags })
    )
    return new GuestMemfd(this.sys, fd, `anon:kvm-gmem(${this.path})`, 'guest-memfd')
  }

  setUserMemoryRegion2(region: UserMemoryRegion2): void {
    this.ioctl(KvmRequest.KVM_SET_USER_MEMORY_REGION2, KvmUserspaceMemoryRegion2.encode(region))
  }

  /** KVM_SET_MEMORY_ATTRIBUTES (0 = shared, KVM_MEMORY_ATTRIBUTE_PRIVATE); ENOTTY where absent. */
  setMemoryAttributes(attributes: MemoryAttributes): void {
    for (const field of ['address', 'size'] as const) {
      if (attributes[field] % 4096n !== 0n) {
        throw new VtlError('E_UNALIGNED', `memory attributes ${field} is not page aligned`, {
          field,
        })
      }
    }
    this.ioctl(KvmRequest.KVM_SET_MEMORY_ATTRIBUTES, KvmMemoryAttributes.encode(attributes))
  }

  enableCap(cap: KvmCapName | number, args: readonly bigint[] = []): void {
    const [arg0 = 0n, arg1 = 0n, arg2 = 0n, arg3 = 0n] = args
    this.ioctl(
      KvmRequest.KVM_ENABLE_CAP,
      KvmEnableCap.encode({ cap: capId(cap), arg0, arg1, arg2, arg3 })
    )
  }

  /**
   * KVM_TDX_CAPABILITIES through KVM_MEMORY_ENCRYPT_OP (a TDX VM only); room for `maxCpuid`
   * CPUID entries. Where the kernel has no TDX the ioctl fails (ENOTTY / EINVAL).
   */
  tdxCapabilities(maxCpuid = 256): TdxCapabilities {
    const size = KVM_TDX_CAPABILITIES_ENTRIES_OFFSET + maxCpuid * KVM_CPUID_ENTRY2_SIZE
    return withMemory(this.sys, size, (caps) => {
      KvmTdxCapabilitiesHeader.write(caps.bytes, { cpuidNent: maxCpuid })
      const cmd = KvmTdxCmdStruct.encode({ id: KvmTdxCmd.CAPABILITIES, data: caps.address })
      this.ioctl(KvmRequest.KVM_MEMORY_ENCRYPT_OP, cmd)
      const header = KvmTdxCapabilitiesHeader.read(caps.bytes)
      const cpuid: CpuidEntry2[] = []
      for (let i = 0; i < Math.min(header.cpuidNent, maxCpuid); i++) {
        cpuid.push(KvmCpuidEntry2.read(caps.bytes, KVM_TDX_CAPABILITIES_ENTRIES_OFFSET + i * 40))
      }
      return {
        supportedAttrs: header.supportedAttrs,
        supportedXfam: header.supportedXfam,
        kernelTdvmcallinfo1R11: header.kernelTdvmcallinfo1R11,
        userTdvmcallinfo1R11: header.userTdvmcallinfo1R11,
        kernelTdvmcallinfo1R12: header.kernelTdvmcallinfo1R12,
        userTdvmcallinfo1R12: header.userTdvmcallinfo1R12,
        cpuid,
      }
    })
  }
}
