import { HvRegisterName, TdcallLeaf, tdgMemPageAccept, tdgVpRd } from '@vtl/core'
import { describe, expect, it } from 'vitest'
import { FakeSyscalls, setU64, thrown, u32, u64 } from '../test/fake-syscalls.js'
import { IoctlError, SyscallError } from '../sys/syscall-error.js'
import { MshvDevice } from './mshv-device.js'
import { vpRegistersArg, type VtlFd } from './vtl-fd.js'

const EINTR = 4
const EFAULT = 14
const EOPNOTSUPP = 95
const EINVAL = 22

function setup(cpuCount = 4): { fake: FakeSyscalls; mshv: MshvDevice; vtl: VtlFd } {
  const fake = new FakeSyscalls(['/dev/mshv'])
  fake.onIoctl = ({ request, fake: kernel }) =>
    request === 0x8001b81d ? kernel.newFd('anon:mshv_vtl') : 0
  const mshv = MshvDevice.open(fake)
  const vtl = mshv.createVtl({ cpuCount })
  fake.ioctls.length = 0
  return { fake, mshv, vtl }
}

describe('/dev/mshv', () => {
  it('issues CHECK_EXTENSION with a pointer to the u32 id and returns the ioctl result', () => {
    const fake = new FakeSyscalls(['/dev/mshv'])
    fake.onIoctl = ({ arg }) => (arg instanceof Uint8Array && u32(arg, 0) === 4 ? 1 : 0)
    const mshv = MshvDevice.open(fake)
    expect(mshv.checkExtension('LOWER_VTL_TIMER_VIRT')).toBe(1)
    expect(fake.ioctls[0]).toMatchObject({ request: 0x4004b800, path: '/dev/mshv' })
    expect([...(fake.ioctls[0]?.bytes ?? [])]).toEqual([4, 0, 0, 0])
    mshv.close()
    expect(fake.leaks).toEqual([])
  })

  it('maps an unknown extension (-EOPNOTSUPP) to a typed IoctlError', () => {
    const fake = new FakeSyscalls(['/dev/mshv'])
    fake.onIoctl = () => -EOPNOTSUPP
    const mshv = MshvDevice.open(fake)
    const error = thrown(() => mshv.checkExtension(99))
    expect(error).toBeInstanceOf(IoctlError)
    expect(error).toMatchObject({
      code: 'E_IOCTL',
      errno: 95,
      errnoName: 'EOPNOTSUPP',
      requestName: 'MSHV_CHECK_EXTENSION',
      requestHex: '0x4004B800',
      path: '/dev/mshv',
    })
    mshv.close()
  })

  it('creates the VTL fd with CREATE_VTL (0x8001B81D, one ignored byte)', () => {
    const { fake, mshv } = setup()
    const fresh = mshv.createVtl()
    const call = fake.ioctls[0]
    expect(call?.request).toBe(0x8001b81d)
    expect(call?.bytes?.byteLength).toBe(1)
    expect(fresh.path).toBe('anon:mshv_vtl')
    fresh.close()
  })

  it('reports a missing node and a refused open with the errno and path', () => {
    const fake = new FakeSyscalls()
    expect(thrown(() => MshvDevice.open(fake))).toMatchObject({
      code: 'E_IOCTL',
      syscall: 'open',
      errnoName: 'ENOENT',
      path: '/dev/mshv',
    })
    fake.nodes.set('/dev/mshv', 13)
    expect(thrown(() => MshvDevice.open(fake))).toBeInstanceOf(SyscallError)
    expect(thrown(() => MshvDevice.open(fake))).toMatchObject({ errnoName: 'EACCES' })
    expect(fake.leaks).toEqual([])
  })
})

describe('VTL fd', () => {
  it('ADD_VTL0_MEMORY carries [start, end) and bit 51 for shared ranges', () => {
    const { fake, vtl } = setup()
    vtl.addVtl0Memory({ startPfn: 0x100n, endPfn: 0x200n })
    vtl.addVtl0Memory({ startPfn: 0x300n, endPfn: 0x400n, shared: true })
    expect(fake.requests()).toEqual([0x4010b821, 0x4010b821])
    const [private_, shared] = fake.ioctls.map((c) => c.bytes ?? new Uint8Array())
    expect([
      u64(private_ ?? new Uint8Array(16), 0),
      u64(private_ ?? new Uint8Array(16), 8),
    ]).toEqual([0x100n, 0x200n])
    expect(u64(shared ?? new Uint8Array(16), 0)).toBe(0x300n | (1n << 51n))
  })

  it('refuses empty, reversed and too-wide ranges before the syscall', () => {
    const { fake, vtl } = setup()
    expect(
      thrown(() => {
        vtl.addVtl0Memory({ startPfn: 5n, endPfn: 5n })
      })
    ).toMatchObject({
      code: 'E_RANGE_EMPTY',
    })
    expect(
      thrown(() => {
        vtl.addVtl0Memory({ startPfn: 6n, endPfn: 5n })
      })
    ).toMatchObject({
      code: 'E_RANGE_REVERSED',
    })
    expect(
      thrown(() => {
        vtl.addVtl0Memory({ startPfn: 0n, endPfn: 1n << 52n })
      })
    ).toMatchObject({
      code: 'E_BEYOND_GPA_WIDTH',
    })
    expect(fake.ioctls).toEqual([])
  })

  it('SET_POLL_FILE carries {cpu, fd}; a CPU beyond the count is refused first', () => {
    const { fake, vtl } = setup(2)
    vtl.setPollFile(1, 33)
    expect(fake.ioctls[0]?.request).toBe(0x4008b825)
    expect([...(fake.ioctls[0]?.bytes ?? [])]).toEqual([1, 0, 0, 0, 33, 0, 0, 0])
    expect(
      thrown(() => {
        vtl.setPollFile(2, 33)
      })
    ).toMatchObject({
      code: 'E_FIELD_RANGE',
      field: 'cpu',
    })
    expect(fake.ioctls).toHaveLength(1)
  })

  it('maps per-CPU pages at page offset (kind << 16) | cpu and unmaps them on close', () => {
    const { fake, mshv, vtl } = setup()
    vtl.mapRunPage(3)
    vtl.mapPage(3, 1)
    expect([...fake.mappings.values()].map((m) => m.offset)).toEqual([
      3n * 4096n,
      ((3n << 16n) | 1n) * 4096n,
    ])
    expect(vtl.mappingCount).toBe(2)
    vtl.close()
    mshv.close()
    expect(fake.leaks).toEqual([])
  })

  it('leaves nothing mapped when mmap fails, and refuses a VP beyond the CPU count', () => {
    const { fake, vtl } = setup(2)
    fake.failMmap = 12
    expect(thrown(() => vtl.mapRunPage(0))).toMatchObject({ syscall: 'mmap', errnoName: 'ENOMEM' })
    fake.failMmap = 0
    expect(thrown(() => vtl.mapRunPage(2))).toMatchObject({ code: 'E_FIELD_RANGE' })
    expect(fake.mappings.size).toBe(0)
    vtl.close()
  })

  it('RETURN_TO_LOWER_VTL runs on the pinned thread: exit, cancelled (flag cleared), errors', async () => {
    const { fake, vtl } = setup()
    const run = vtl.mapRunPage(2)
    const thread = await fake.spawnPinnedThread(2)
    if (typeof thread === 'number') throw new Error('spawn')
    let answer = 0
    fake.onIoctl = () => answer
    await expect(vtl.returnToLowerVtl(thread, run)).resolves.toBe('exit')
    expect(fake.ioctls[0]).toMatchObject({ request: 0xb827, value: 0, cpu: 2 })

    run.cancel = 1
    answer = -EINTR
    await expect(vtl.returnToLowerVtl(thread, run)).resolves.toBe('cancelled')
    expect(run.cancel).toBe(0)

    // -EINTR without the cancel flag is a signal, not a cancellation.
    await expect(vtl.returnToLowerVtl(thread, run)).rejects.toMatchObject({
      errnoName: 'EINTR',
      requestName: 'MSHV_RETURN_TO_LOWER_VTL',
    })
    answer = -EFAULT
    await expect(vtl.returnToLowerVtl(thread, run)).rejects.toBeInstanceOf(IoctlError)
    await thread.close()
    vtl.close()
  })

  it('GET/SET_VP_REGISTERS pass count 1 and a pointer to one hv_register_assoc', () => {
    const { fake, vtl } = setup()
    fake.onIoctl = ({ request, arg, fake: kernel }) => {
      if (!(arg instanceof Uint8Array)) return -EINVAL
      if (u32(arg, 0) !== 1) return -EINVAL
      const assoc = kernel.resolve(u64(arg, 8), 32)
      if (request === 0xc010b805) {
        setU64(assoc, 16, 0x1122n)
        setU64(assoc, 24, 0x3344n)
      }
      return 0
    }
    expect(vtl.getVpRegister(HvRegisterName.VsmCapabilities)).toBe((0x3344n << 64n) | 0x1122n)
    vtl.setVpRegister({ name: HvRegisterName.Dr6, value: 0xffff0ff0n })
    expect(fake.requests()).toEqual([0xc010b805, 0x4010b806])
    const set = fake.ioctls[1]?.bytes ?? new Uint8Array(16)
    expect(u32(set, 0)).toBe(1)
    expect(fake.allocations.size).toBe(0)
    expect(thrown(() => vpRegistersArg(2, 0n))).toMatchObject({ code: 'E_FIELD_RANGE' })
  })

  it('reads a VP register on that VP’s pinned thread', async () => {
    const { fake, vtl } = setup()
    fake.onIoctl = ({ arg, cpu, fake: kernel }) => {
      if (!(arg instanceof Uint8Array)) return -EINVAL
      setU64(kernel.resolve(u64(arg, 8), 32), 16, BigInt(cpu ?? 99))
      return 0
    }
    const thread = await fake.spawnPinnedThread(3)
    if (typeof thread === 'number') throw new Error('spawn')
    await expect(vtl.getVpRegisterOn(thread, HvRegisterName.Rip)).resolves.toBe(3n)
    expect(fake.ioctls[0]).toMatchObject({ request: 0xc010b805, cpu: 3 })
    fake.onIoctl = () => -EINVAL
    await expect(vtl.getVpRegisterOn(thread, HvRegisterName.Rip)).rejects.toMatchObject({
      errnoName: 'EINVAL',
    })
    expect(fake.allocations.size).toBe(0)
    await thread.close()
  })

  it('frees the register buffer when the kernel refuses', () => {
    const { fake, vtl } = setup()
    fake.onIoctl = () => -EINVAL
    expect(thrown(() => vtl.getVpRegister(0x00020000))).toMatchObject({
      requestName: 'MSHV_GET_VP_REGISTERS',
      errnoName: 'EINVAL',
    })
    expect(fake.allocations.size).toBe(0)
  })

  it('MSHV_VTL_TDCALL: 56 packed bytes in, status from RAX out', () => {
    const { fake, vtl } = setup()
    fake.onIoctl = ({ arg }) => {
      if (!(arg instanceof Uint8Array)) return -EINVAL
      setU64(arg, 0, 0xc000_0b0bn << 32n)
      setU64(arg, 24, 0xabcn)
      setU64(arg, 40, 0x10n)
      setU64(arg, 48, 0x11n)
      return 0
    }
    const input = tdgMemPageAccept({ level: 1, gpn: 0x200n })
    const out = vtl.tdcall(input)
    const bytes = fake.ioctls[0]?.bytes ?? new Uint8Array()
    expect(fake.ioctls[0]?.request).toBe(0xc038b832)
    expect(bytes.byteLength).toBe(56)
    expect(u64(bytes, 0)).toBe(BigInt(TdcallLeaf['TDG.MEM.PAGE.ACCEPT']))
    expect(u64(bytes, 8)).toBe((0x200n << 12n) | 1n)
    expect(out).toEqual({
      rax: 0xc000_0b0bn << 32n,
      rcx: (0x200n << 12n) | 1n,
      rdx: 0n,
      r8: 0xabcn,
      r9: 0n,
      r10: 0x10n,
      r11: 0x11n,
    })
  })

  it('refuses VMCALL and nonzero R10–R15 before the syscall', () => {
    const { fake, vtl } = setup()
    expect(thrown(() => vtl.tdcall({ leaf: 0, rcx: 0n, rdx: 0n, r8: 0n, r9: 0n }))).toMatchObject({
      code: 'E_INVALID_VALUE',
      field: 'leaf',
    })
    expect(thrown(() => vtl.tdcall({ ...tdgVpRd(1n), r12: 1n }))).toMatchObject({ field: 'r12' })
    expect(fake.ioctls).toEqual([])
  })

  it('READ_VMX_CR4_FIXED1 reads a u64 back; KICK_CPU passes a CPU mask and CANCEL_CPU_RUN', () => {
    const { fake, vtl } = setup(12)
    fake.onIoctl = ({ request, arg, fake: kernel }) => {
      if (request === 0x8008b833 && arg instanceof Uint8Array) setU64(arg, 0, 0x3727ffn)
      if (request === 0x4018b838 && arg instanceof Uint8Array) {
        expect([...kernel.resolve(u64(arg, 8), 2)]).toEqual([0b0000_0010, 0b0000_1000])
      }
      return 0
    }
    expect(vtl.readVmxCr4Fixed1()).toBe(0x3727ffn)
    vtl.kickCpus([1, 11])
    const kick = fake.ioctls[1]?.bytes ?? new Uint8Array(24)
    expect(fake.ioctls[1]?.request).toBe(0x4018b838)
    expect(u64(kick, 0)).toBe(2n)
    expect(u64(kick, 16)).toBe(2n)
    expect(fake.allocations.size).toBe(0)
  })

  it('refuses every call on a closed fd before a syscall', () => {
    const { fake, vtl } = setup()
    vtl.close()
    vtl.close()
    expect(thrown(() => vtl.readVmxCr4Fixed1())).toMatchObject({ code: 'E_INVALID_VALUE' })
    expect(thrown(() => vtl.mapRunPage(0))).toMatchObject({ code: 'E_INVALID_VALUE' })
    expect(fake.ioctls).toEqual([])
  })
})
