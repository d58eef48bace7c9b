import { accessSync, constants, existsSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { IoctlError, SyscallError } from '../sys/syscall-error.js'
import { createLibcSyscalls, koffiAvailable } from '../sys/libc-syscalls.js'
import { MapFlags, Prot, type Syscalls } from '../sys/syscalls.js'
import { ioc } from '../uapi/ioc.js'
import { KvmCap, KvmMemFlags, KVM_MEMORY_ATTRIBUTE_PRIVATE } from '../uapi/kvm-requests.js'
import { KvmDevice, vmTypeNames, type KvmVm } from './kvm-device.js'

function kvmMissing(): string | undefined {
  if (!existsSync('/dev/kvm')) return 'no /dev/kvm on this host'
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK)
  } catch {
    return 'no read/write permission on /dev/kvm (needs root or the kvm group)'
  }
  if (!koffiAvailable()) return 'koffi cannot be loaded'
  return undefined
}

const missing = kvmMissing()
const name = (title: string): string =>
  missing === undefined ? title : `${title} [skipped: ${missing}]`

// These go through real koffi and libc into the host's KVM (abi.md §5 documents this host kind).
describe.skipIf(missing !== undefined)('real /dev/kvm through koffi', () => {
  const opened: { close(): void }[] = []
  let sys: Syscalls
  const kvm = (): KvmDevice => {
    sys = createLibcSyscalls()
    const device = KvmDevice.open(sys)
    opened.push(device)
    return device
  }
  const vm = (device: KvmDevice): KvmVm => {
    const created = device.createVm('DEFAULT')
    opened.push(created)
    return created
  }
  afterEach(() => {
    for (const item of opened.splice(0).reverse()) item.close()
  })

  it(name('answers API version 12'), () => {
    expect(kvm().apiVersion()).toBe(12)
  })

  it(name('answers capability queries (values may differ between kernels)'), () => {
    const device = kvm()
    const caps = Object.fromEntries(
      (Object.keys(KvmCap) as (keyof typeof KvmCap)[]).map((cap) => [
        cap,
        device.checkExtension(cap),
      ])
    )
    for (const value of Object.values(caps)) expect(value).toBeGreaterThanOrEqual(0)
    // Bit 0 (the default VM) is creatable on every KVM.
    expect(device.vmTypes() & 1).toBe(1)
    expect(vmTypeNames(device.vmTypes())).toContain('DEFAULT')
    expect(caps.MAX_VCPUS).toBeGreaterThan(0)
    // abi.md §5 documents this host kind (PVM-backed 6.18); other kernels may answer otherwise,
    // so a difference is reported, not failed.
    const documented: Partial<Record<keyof typeof KvmCap, number>> = {
      USER_MEMORY2: 1,
      MEMORY_FAULT_INFO: 1,
      MEMORY_ATTRIBUTES: 0,
      GUEST_MEMFD: 1,
      VM_TYPES: 1,
      PRE_FAULT_MEMORY: 0,
      GUEST_MEMFD_FLAGS: 3,
      EXIT_HYPERCALL: 4096,
      MAX_VCPUS: 1024,
    }
    const differences = Object.entries(documented).filter(([cap, value]) => caps[cap] !== value)
    if (differences.length > 0)
      console.info('KVM caps differing from abi.md §5:', differences, caps)
  })

  it(name('creates a default VM that answers CHECK_EXTENSION itself'), () => {
    const created = vm(kvm())
    expect(created.fd).toBeGreaterThan(2)
    expect(created.checkExtension('USER_MEMORY2')).toBeGreaterThanOrEqual(0)
  })

  it(name('refuses an unsupported VM type with a typed IoctlError naming EINVAL'), () => {
    const device = kvm()
    const tdx = 5
    if ((device.vmTypes() & (1 << tdx)) !== 0) return // A TDX host: nothing to refuse.
    const error = (() => {
      try {
        device.createVm('TDX')
      } catch (e) {
        return e
      }
      return undefined
    })()
    expect(error).toBeInstanceOf(IoctlError)
    expect(error).toMatchObject({
      code: 'E_IOCTL',
      errno: 22,
      errnoName: 'EINVAL',
      requestName: 'KVM_CREATE_VM',
      requestHex: '0x0000AE01',
      path: '/dev/kvm',
    })
  })

  it(
    name('writes struct arguments back (GET_MSR_INDEX_LIST with no room: E2BIG and the count)'),
    () => {
      const device = kvm()
      const list = new Uint8Array(8)
      const request = ioc(3, 0xae, 0x02, 4)
      expect(() => device.ioctl(request, list)).toThrow(
        expect.objectContaining({ errnoName: 'E2BIG' })
      )
      expect(new DataView(list.buffer).getUint32(0, true)).toBeGreaterThan(0)
    }
  )

  it(name('creates a guest_memfd and a USER_MEMORY2 slot backed by it, where offered'), () => {
    const device = kvm()
    if (device.checkExtension('GUEST_MEMFD') === 0 || device.checkExtension('USER_MEMORY2') === 0) {
      return
    }
    const created = vm(device)
    const size = 2n * 1024n * 1024n
    const gmem = created.createGuestMemfd(size)
    opened.push(gmem)
    const shared = sys.mmap(
      -1,
      Number(size),
      Prot.READ | Prot.WRITE,
      MapFlags.PRIVATE | MapFlags.ANONYMOUS,
      0n
    )
    if (typeof shared === 'number') throw new Error(`mmap failed: ${shared}`)
    opened.push({
      close: () => {
        sys.munmap(shared)
      },
    })
    created.setUserMemoryRegion2({
      slot: 0,
      flags: KvmMemFlags.GUEST_MEMFD,
      guestPhysAddr: 0n,
      memorySize: size,
      userspaceAddr: shared.address,
      guestMemfdOffset: 0n,
      guestMemfd: gmem.fd,
    })
    // Private conversion only where the kernel has generic memory attributes (not on PVM hosts).
    if (
      (created.checkExtension('MEMORY_ATTRIBUTES') & Number(KVM_MEMORY_ATTRIBUTE_PRIVATE)) ===
      0
    ) {
      expect(() => {
        created.setMemoryAttributes({
          address: 0n,
          size: 4096n,
          attributes: KVM_MEMORY_ATTRIBUTE_PRIVATE,
        })
      }).toThrow(expect.objectContaining({ errnoName: 'ENOTTY' }))
    } else {
      created.setMemoryAttributes({
        address: 0n,
        size: 4096n,
        attributes: KVM_MEMORY_ATTRIBUTE_PRIVATE,
      })
    }
  })

  it(
    name('enables KVM_CAP_EXIT_HYPERCALL with the 104-byte kvm_enable_cap; a bad mask is EINVAL'),
    () => {
      const device = kvm()
      const mask = device.checkExtension('EXIT_HYPERCALL')
      if (mask === 0) return
      const created = vm(device)
      created.enableCap('EXIT_HYPERCALL', [BigInt(mask)])
      expect(() => {
        created.enableCap('EXIT_HYPERCALL', [1n << 63n])
      }).toThrow(expect.objectContaining({ errnoName: 'EINVAL', requestName: 'KVM_ENABLE_CAP' }))
    }
  )

  it(name('reports KVM_TDX_CAPABILITIES as a typed error on a non-TDX VM'), () => {
    const device = kvm()
    if ((device.vmTypes() & (1 << 5)) !== 0) return
    const created = vm(device)
    expect(() => created.tdxCapabilities()).toThrow(
      expect.objectContaining({ code: 'E_IOCTL', requestName: 'KVM_MEMORY_ENCRYPT_OP' })
    )
  })

  it(name('fails open of a missing node with SyscallError ENOENT and the path'), () => {
    sys = createLibcSyscalls()
    expect(() => KvmDevice.open(sys, '/dev/does-not-exist')).toThrow(SyscallError)
    expect(() => KvmDevice.open(sys, '/dev/does-not-exist')).toThrow(/ENOENT/)
  })

  it(name('refuses an ioctl on a closed fd before any syscall'), () => {
    const device = kvm()
    device.close()
    expect(() => device.apiVersion()).toThrow(expect.objectContaining({ code: 'E_INVALID_VALUE' }))
  })

  it(name('runs a blocking-style ioctl off the event loop (koffi async)'), async () => {
    const device = kvm()
    await expect(sys.ioctlAsync(device.fd, 0xae00, 0)).resolves.toBe(12)
    await expect(sys.ioctlAsync(device.fd, 0xae99, 0)).resolves.toBe(-22)
  })

  it(name('pins the calling thread with sched_setaffinity; an offline CPU is EINVAL'), () => {
    sys = createLibcSyscalls()
    expect(sys.schedSetaffinity([1000])).toBe(-22)
    expect(() => sys.schedSetaffinity([4096])).toThrow(
      expect.objectContaining({ code: 'E_FIELD_RANGE' })
    )
  })

  it(name('writes struct arguments back through the pinned thread'), async () => {
    const device = kvm()
    const thread = await sys.spawnPinnedThread(0)
    if (typeof thread === 'number') throw new Error(`sched_setaffinity failed: ${thread}`)
    try {
      const list = new Uint8Array(8)
      await expect(thread.ioctl(device.fd, ioc(3, 0xae, 0x02, 4), list)).resolves.toBe(-7)
      expect(new DataView(list.buffer).getUint32(0, true)).toBeGreaterThan(0)
    } finally {
      await thread.close()
    }
  })

  it(name('pins a worker thread to a CPU and issues ioctls on it'), async () => {
    const device = kvm()
    const thread = await sys.spawnPinnedThread(0)
    if (typeof thread === 'number') throw new Error(`sched_setaffinity failed: ${thread}`)
    try {
      await expect(thread.ioctl(device.fd, 0xae00, 0)).resolves.toBe(12)
      await expect(thread.ioctl(device.fd, 0xae01, 5)).resolves.toBeLessThan(0)
    } finally {
      await thread.close()
    }
  })
})
