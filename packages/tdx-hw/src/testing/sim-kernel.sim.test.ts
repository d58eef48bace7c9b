import {
  DEFAULT_VMX_FIXED_BITS,
  HV_PARTITION_ID_SELF,
  HvRegisterName,
  HypercallCode,
  TdcallLeaf,
  TdxOperandId,
  TdxStatus,
  VmcsField,
  VmxExitBasic,
  encodeEnablePartitionVtl,
  encodeHypercallControl,
  enablePartitionVtlFlags,
  makeTdxStatus,
  vmcsFieldCode,
} from '@vtl/core'
import { describe, expect, it } from 'vitest'
import { HypercallNotAllowedError } from '../devices/hvcall-device.js'
import { HwPlatform } from '../platform/hw-platform.js'
import { IoctlError } from '../sys/syscall-error.js'
import { MshvRequest } from '../uapi/mshv-requests.js'
import { SimKernel } from './sim-kernel.js'

const R = MshvRequest
const EPERM = 1
const EINTR = 4
const EBADF = 9
const EFAULT = 14
const ENODEV = 19
const EINVAL = 22
const ENOTTY = 25
const EOPNOTSUPP = 95

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
function u64(bytes: Uint8Array, at: number): bigint {
  return view(bytes).getBigUint64(at, true)
}
function u32(bytes: Uint8Array, at: number): number {
  return view(bytes).getUint32(at, true)
}
/** A struct argument built field by field at the spec's byte offsets. */
function struct(size: number, fields: [at: number, value: bigint, width?: 4 | 8][]): Uint8Array {
  const bytes = new Uint8Array(size)
  for (const [at, value, width] of fields) {
    if (width === 4) view(bytes).setUint32(at, Number(value), true)
    else view(bytes).setBigUint64(at, value, true)
  }
  return bytes
}

function openVtl(kernel: SimKernel): { mshv: number; vtl: number } {
  const mshv = kernel.open('/dev/mshv', 2)
  const vtl = kernel.ioctl(mshv, R.MSHV_CREATE_VTL, new Uint8Array(1))
  return { mshv, vtl }
}

function hvcallControl(code: number, repCount = 0): bigint {
  return encodeHypercallControl({
    code,
    fast: false,
    variableHeaderSize: 0,
    nested: false,
    repCount,
    repStart: 0,
  })
}

describe('SimKernel: /dev/mshv', () => {
  it('answers MSHV_CHECK_EXTENSION as a TDX OpenHCL kernel; unknown ids are EOPNOTSUPP', () => {
    const kernel = new SimKernel({ vps: 2 })
    const fd = kernel.open('/dev/mshv', 2)
    expect(fd).toBeGreaterThanOrEqual(0)
    const ask = (id: number) => kernel.ioctl(fd, 0x4004b800, struct(4, [[0, BigInt(id), 4]]))
    expect([0, 1, 2, 3, 4].map(ask)).toEqual([0, 0, 0, 0, 1])
    expect(ask(5)).toBe(-EOPNOTSUPP)
    expect(kernel.ioctl(fd, R.MSHV_CHECK_EXTENSION, new Uint8Array(2))).toBe(-EFAULT)
    const shared = new SimKernel({ vps: 1, dr6Shared: true })
    const fd2 = shared.open('/dev/mshv', 2)
    expect(shared.ioctl(fd2, R.MSHV_CHECK_EXTENSION, struct(4, [[0, 3n, 4]]))).toBe(1)
  })

  it('MSHV_CREATE_VTL returns a new fd of its own kind; other requests are ENOTTY', () => {
    const kernel = new SimKernel({ vps: 1 })
    const { mshv, vtl } = openVtl(kernel)
    expect(vtl).toBeGreaterThan(mshv)
    expect(kernel.ioctl(vtl, R.MSHV_CREATE_VTL, new Uint8Array(1))).toBe(-ENOTTY)
    expect(kernel.ioctl(mshv, R.MSHV_RETURN_TO_LOWER_VTL, 0)).toBe(-ENOTTY)
    expect(kernel.ioctl(mshv, R.MSHV_HVCALL, new Uint8Array(48))).toBe(-ENOTTY)
  })

  it('open of an unknown node is ENOENT; any call on a closed fd is EBADF', () => {
    const kernel = new SimKernel({ vps: 1 })
    expect(kernel.open('/dev/mshv_vtl_low', 2)).toBe(-2)
    const { mshv, vtl } = openVtl(kernel)
    expect(kernel.close(vtl)).toBe(0)
    expect(kernel.close(vtl)).toBe(-EBADF)
    expect(kernel.ioctl(vtl, R.MSHV_RETURN_TO_LOWER_VTL, 0)).toBe(-EBADF)
    expect(kernel.mmap(vtl, 4096, 3, 1, 0n)).toBe(-EBADF)
    expect(kernel.close(mshv)).toBe(0)
    expect(kernel.leaks).toEqual([])
  })
})

describe('SimKernel: the VTL fd', () => {
  it('ADD_VTL0_MEMORY takes [start, last) with the shared bit 51; empty or reversed is EINVAL', () => {
    const kernel = new SimKernel({ vps: 1 })
    const { vtl } = openVtl(kernel)
    expect(
      kernel.ioctl(
        vtl,
        0x4010b821,
        struct(16, [
          [0, 0n],
          [8, 0x400n],
        ])
      )
    ).toBe(0)
    const shared = struct(16, [
      [0, (1n << 51n) | 0x800n],
      [8, 0x900n],
    ])
    expect(kernel.ioctl(vtl, R.MSHV_ADD_VTL0_MEMORY, shared)).toBe(0)
    expect(
      kernel.ioctl(
        vtl,
        R.MSHV_ADD_VTL0_MEMORY,
        struct(16, [
          [0, 5n],
          [8, 5n],
        ])
      )
    ).toBe(-EINVAL)
    expect(
      kernel.ioctl(
        vtl,
        R.MSHV_ADD_VTL0_MEMORY,
        struct(16, [
          [0, 6n],
          [8, 5n],
        ])
      )
    ).toBe(-EINVAL)
    expect(kernel.vtl0Memory()).toEqual([
      { startPfn: 0n, endPfn: 0x400n, shared: false },
      { startPfn: 0x800n, endPfn: 0x900n, shared: true },
    ])
  })

  it('maps per-CPU pages at (kind << 16 | cpu) × 4096: the run page and the TDX APIC page', () => {
    const kernel = new SimKernel({ vps: 2 })
    const { mshv, vtl } = openVtl(kernel)
    const run1 = kernel.mmap(vtl, 4096, 3, 1, 1n * 4096n)
    const again = kernel.mmap(vtl, 4096, 3, 1, 1n * 4096n)
    const apic0 = kernel.mmap(vtl, 4096, 3, 1, (3n << 16n) * 4096n)
    if (typeof run1 === 'number' || typeof again === 'number' || typeof apic0 === 'number') {
      throw new Error('mmap failed')
    }
    expect(run1.bytes).toBe(kernel.runPage(1))
    expect(again.bytes).toBe(run1.bytes)
    expect(apic0.bytes).toBe(kernel.page(3, 0))
    expect(apic0.bytes).not.toBe(kernel.runPage(0))
    // No register page on a CVM, no SNP VMSAs, no CPU 2, whole pages only, only the VTL fd.
    expect(kernel.mmap(vtl, 4096, 3, 1, (1n << 16n) * 4096n)).toBe(-EINVAL)
    expect(kernel.mmap(vtl, 4096, 3, 1, (2n << 16n) * 4096n)).toBe(-EINVAL)
    expect(kernel.mmap(vtl, 4096, 3, 1, 2n * 4096n)).toBe(-EINVAL)
    expect(kernel.mmap(vtl, 8192, 3, 1, 0n)).toBe(-EINVAL)
    expect(kernel.mmap(vtl, 4096, 3, 1, 100n)).toBe(-EINVAL)
    expect(kernel.mmap(mshv, 4096, 3, 1, 0n)).toBe(-ENODEV)
    for (const m of [run1, again, apic0]) expect(kernel.munmap(m)).toBe(0)
    expect(kernel.munmap(run1)).toBe(-EINVAL)
  })

  it('round-trips the run page: entry_rcx and l2_enter_guest_state in, exit_info and state out', async () => {
    const seen: { cpu: number; vm: number; rip: bigint; rax: bigint; rsp: bigint }[] = []
    const kernel = new SimKernel({
      vps: 2,
      guest: (cpu, vm, state) => {
        seen.push({ cpu, vm, rip: state.rip, rax: state.gps[0] ?? 0n, rsp: state.gps[4] ?? 0n })
        state.rip += 3n
        state.gps = state.gps.map((v, i) => (i === 1 ? 0x1234n : v))
        return {
          exitReason: VmxExitBasic.VMCALL,
          exitQualification: 7n,
          gpa: 0x5000n,
          instructionInfo: 3n << 32n,
        }
      },
    })
    const { vtl } = openVtl(kernel)
    const map = kernel.mmap(vtl, 4096, 3, 1, 1n * 4096n)
    if (typeof map === 'number') throw new Error('mmap failed')
    const page = view(map.bytes)
    page.setBigUint64(504, 2n << 52n, true) // entry_rcx: VM index 2 (VTL1)
    page.setBigUint64(512 + 0, 0xaan, true) // RAX
    page.setBigUint64(512 + 32, 0x8000n, true) // RSP
    page.setBigUint64(512 + 128, 0x202n, true) // RFLAGS
    page.setBigUint64(512 + 136, 0x100000n, true) // RIP
    page.setBigUint64(408 + 56, 1n, true) // vp_state.flags: WBINVD
    page.setBigUint64(672, 0x9999n, true) // l2_tsc_deadline.deadline
    page.setUint8(680, 1) // update
    const thread = await kernel.spawnPinnedThread(1)
    if (typeof thread === 'number') throw new Error('spawn failed')
    expect(await thread.ioctl(vtl, 0xb827, 0)).toBe(0)
    expect(seen).toEqual([{ cpu: 1, vm: 2, rip: 0x100000n, rax: 0xaan, rsp: 0x8000n }])
    // exit_info at 272: RAX = status 0 | VMCALL, RCX qualification, R8 GPA, R11 instruction info.
    expect(u64(map.bytes, 272)).toBe(18n)
    expect(u64(map.bytes, 272 + 8)).toBe(7n)
    expect(u64(map.bytes, 272 + 40)).toBe(0x5000n)
    expect(u64(map.bytes, 272 + 64)).toBe(3n << 32n)
    expect(u64(map.bytes, 512 + 136)).toBe(0x100003n)
    expect(u64(map.bytes, 512 + 8)).toBe(0x1234n)
    expect(u64(map.bytes, 408 + 56)).toBe(0n)
    expect(map.bytes[680]).toBe(0)
    expect(kernel.tscDeadlines.get(1)).toBe(0x9999n)
    expect(kernel.module.entries(1)).toMatchObject({
      count: 1,
      last: { vmIndex: 2, guestStateGpa: kernel.guestStateGpa(1) },
    })
    expect(kernel.guestStateGpa(1) % 256n).toBe(0n)
    expect(kernel.module.entries(0).count).toBe(0)
    await thread.close()
  })

  it('RETURN_TO_LOWER_VTL: a bad entry_rcx is the module status in exit_info (ioctl 0)', () => {
    const kernel = new SimKernel({ vps: 1 })
    const { vtl } = openVtl(kernel)
    view(kernel.runPage(0)).setBigUint64(504, 0n, true) // VM index 0
    expect(kernel.ioctl(vtl, R.MSHV_RETURN_TO_LOWER_VTL, 0)).toBe(0)
    expect(u64(kernel.runPage(0), 272)).toBe(
      makeTdxStatus(TdxStatus.TDX_OPERAND_INVALID, TdxOperandId.RCX)
    )
  })

  it('honours run->cancel (EINTR, nothing entered); a poll eventfd write or KICK_CPU sets it', () => {
    const kernel = new SimKernel({ vps: 2 })
    const { mshv, vtl } = openVtl(kernel)
    view(kernel.runPage(0)).setBigUint64(504, 1n << 52n, true)
    const efd = kernel.eventfd(0, 0)
    expect(
      kernel.ioctl(
        vtl,
        0x4008b825,
        struct(8, [
          [0, 0n, 4],
          [4, BigInt(efd), 4],
        ])
      )
    ).toBe(0)
    expect(kernel.pollFile(0)).toBe(efd)
    expect(
      kernel.ioctl(
        vtl,
        R.MSHV_SET_POLL_FILE,
        struct(8, [
          [0, 2n, 4],
          [4, BigInt(efd), 4],
        ])
      )
    ).toBe(-EINVAL)
    expect(
      kernel.ioctl(
        vtl,
        R.MSHV_SET_POLL_FILE,
        struct(8, [
          [0, 0n, 4],
          [4, BigInt(mshv), 4],
        ])
      )
    ).toBe(-EBADF)
    expect(kernel.write(efd, struct(8, [[0, 1n]]))).toBe(8)
    expect(u32(kernel.runPage(0), 0)).toBe(1)
    expect(kernel.ioctl(vtl, R.MSHV_RETURN_TO_LOWER_VTL, 0)).toBe(-EINTR)
    expect(kernel.module.entries(0).count).toBe(0)
    view(kernel.runPage(0)).setUint32(0, 0, true)
    expect(kernel.ioctl(vtl, R.MSHV_RETURN_TO_LOWER_VTL, 0)).toBe(0)
    expect(kernel.module.entries(0).count).toBe(1)
    expect(u64(kernel.runPage(0), 272)).toBe(BigInt(VmxExitBasic.HLT))
    // KICK_CPU with CANCEL_CPU_RUN for CPU 1.
    const mask = kernel.alloc(1)
    mask.bytes[0] = 0b10
    expect(
      kernel.ioctl(
        vtl,
        0x4018b838,
        struct(24, [
          [0, 1n],
          [8, mask.address],
          [16, 2n],
        ])
      )
    ).toBe(0)
    expect(u32(kernel.runPage(1), 0)).toBe(1)
    expect(u32(kernel.runPage(0), 0)).toBe(0)
    const buf = new Uint8Array(8)
    expect(kernel.read(efd, buf)).toBe(8)
    expect(u64(buf, 0)).toBe(1n)
    expect(kernel.read(efd, buf)).toBe(-11)
  })

  it('GET/SET_VP_REGISTERS: count must be 1; DR0–3 served per CPU; hypercall-backed is EINVAL', async () => {
    const kernel = new SimKernel({ vps: 2 })
    const { vtl } = openVtl(kernel)
    const assoc = kernel.alloc(32)
    const set = (name: number, value: bigint, count = 1n) => {
      view(assoc.bytes).setUint32(0, name, true)
      view(assoc.bytes).setBigUint64(16, value, true)
      return kernel.ioctl(
        vtl,
        0x4010b806,
        struct(16, [
          [0, count, 4],
          [8, assoc.address],
        ])
      )
    }
    expect(set(HvRegisterName.Dr1, 0xabcn)).toBe(0)
    expect(set(HvRegisterName.Dr1, 0xabcn, 2n)).toBe(-EINVAL)
    expect(set(HvRegisterName.Dr1, 0xabcn, 0n)).toBe(-EINVAL)
    expect(set(HvRegisterName.Rip, 0x1000n)).toBe(-EINVAL)
    expect(set(HvRegisterName.Dr6, 1n)).toBe(-EINVAL)
    view(assoc.bytes).setUint32(0, HvRegisterName.Dr1, true)
    view(assoc.bytes).setBigUint64(16, 0n, true)
    const get = struct(16, [
      [0, 1n, 4],
      [8, assoc.address],
    ])
    expect(kernel.ioctl(vtl, 0xc010b805, get)).toBe(0)
    expect(u64(assoc.bytes, 16)).toBe(0xabcn)
    // The same register on CPU 1 is another VP's.
    const thread = await kernel.spawnPinnedThread(1)
    if (typeof thread === 'number') throw new Error('spawn failed')
    expect(await thread.ioctl(vtl, R.MSHV_GET_VP_REGISTERS, get)).toBe(0)
    expect(u64(assoc.bytes, 16)).toBe(0n)
    await thread.close()
    const bad = struct(16, [
      [0, 1n, 4],
      [8, 0x1234n],
    ])
    expect(kernel.ioctl(vtl, R.MSHV_GET_VP_REGISTERS, bad)).toBe(-EFAULT)
    const shared = new SimKernel({ vps: 1, dr6Shared: true })
    const fds = openVtl(shared)
    const a = shared.alloc(32)
    view(a.bytes).setUint32(0, HvRegisterName.Dr6, true)
    expect(
      shared.ioctl(
        fds.vtl,
        R.MSHV_SET_VP_REGISTERS,
        struct(16, [
          [0, 1n, 4],
          [8, a.address],
        ])
      )
    ).toBe(0)
  })

  it('MSHV_VTL_TDCALL forwards leaf/RCX/RDX/R8/R9 on the calling CPU and writes RAX..R11 back', async () => {
    const kernel = new SimKernel({ vps: 2 })
    const { vtl } = openVtl(kernel)
    const field = vmcsFieldCode(1, VmcsField.GUEST_CR3)
    const wr = struct(56, [
      [0, BigInt(TdcallLeaf['TDG.VP.WR'])],
      [16, field],
      [24, 0x7000n],
      [32, 0xffff_ffff_ffff_ffffn],
    ])
    const thread = await kernel.spawnPinnedThread(1)
    if (typeof thread === 'number') throw new Error('spawn failed')
    expect(await thread.ioctl(vtl, 0xc038b832, wr)).toBe(0)
    expect(u64(wr, 0)).toBe(0n) // TDX_SUCCESS
    expect(kernel.module.vmcsRead(1, 2, VmcsField.GUEST_CR3)).toBe(0x7000n)
    expect(kernel.module.vmcsRead(0, 2, VmcsField.GUEST_CR3)).toBe(0n)
    const rd = struct(56, [
      [0, BigInt(TdcallLeaf['TDG.VP.RD'])],
      [16, field],
    ])
    expect(await thread.ioctl(vtl, R.MSHV_VTL_TDCALL, rd)).toBe(0)
    expect(u64(rd, 24)).toBe(0x7000n)
    await thread.close()
    // ATTR.RD of an accepted page: RDX slot 0 = 0x800F, slot 1 (VM #1) FULL_ACCESS.
    const attr = struct(56, [
      [0, BigInt(TdcallLeaf['TDG.MEM.PAGE.ATTR.RD'])],
      [8, 0x3000n],
    ])
    expect(kernel.ioctl(vtl, R.MSHV_VTL_TDCALL, attr)).toBe(0)
    expect(u64(attr, 0)).toBe(0n)
    expect(u64(attr, 16) & 0xffff_ffffn).toBe(0x800f_800fn)
    // A leaf the module does not know: the ioctl succeeds, RAX carries OPERAND_INVALID.
    const unknown = struct(56, [[0, 0x7fn]])
    expect(kernel.ioctl(vtl, R.MSHV_VTL_TDCALL, unknown)).toBe(0)
    expect(u64(unknown, 0) >> 32n).toBe(BigInt(TdxStatus.TDX_OPERAND_INVALID))
    // TDG.VP.VMCALL (leaf 0) is refused by the fork; a short struct faults.
    expect(kernel.ioctl(vtl, R.MSHV_VTL_TDCALL, struct(56, [[0, 0n]]))).toBe(-EINVAL)
    expect(kernel.ioctl(vtl, R.MSHV_VTL_TDCALL, new Uint8Array(40))).toBe(-EFAULT)
  })

  it('MSHV_VTL_READ_VMX_CR4_FIXED1 writes the u64', () => {
    const kernel = new SimKernel({ vps: 1 })
    const { vtl } = openVtl(kernel)
    const out = new Uint8Array(8)
    expect(kernel.ioctl(vtl, 0x8008b833, out)).toBe(0)
    expect(u64(out, 0)).toBe(DEFAULT_VMX_FIXED_BITS.cr4Fixed1)
    expect(kernel.ioctl(vtl, R.MSHV_VTL_PVALIDATE, new Uint8Array(20))).toBe(-ENOTTY)
  })
})

describe('SimKernel: /dev/mshv_hvcall', () => {
  const enable = encodeEnablePartitionVtl({
    partitionId: HV_PARTITION_ID_SELF,
    targetVtl: 1,
    flags: enablePartitionVtlFlags(),
  })

  function setup(kernel: SimKernel, fd: number, codes: number[], size = 64): number {
    const bitmap = kernel.alloc(size)
    for (const code of codes)
      bitmap.bytes[code >> 3] = (bitmap.bytes[code >> 3] ?? 0) | (1 << (code & 7))
    return kernel.ioctl(
      fd,
      0x4010b81e,
      struct(16, [
        [0, BigInt(size)],
        [8, bitmap.address],
      ])
    )
  }

  it('HVCALL_SETUP once per fd, at most 8192 bytes; HVCALL before it is EINVAL', () => {
    const kernel = new SimKernel({ vps: 1 })
    const fd = kernel.open('/dev/mshv_hvcall', 2)
    expect(kernel.ioctl(fd, R.MSHV_HVCALL, new Uint8Array(48))).toBe(-EINVAL)
    const big = kernel.alloc(8200)
    expect(
      kernel.ioctl(
        fd,
        R.MSHV_HVCALL_SETUP,
        struct(16, [
          [0, 8193n],
          [8, big.address],
        ])
      )
    ).toBe(-EINVAL)
    expect(setup(kernel, fd, [HypercallCode.EnablePartitionVtl])).toBe(0)
    expect(setup(kernel, fd, [HypercallCode.EnableVpVtl])).toBe(-EINVAL)
    expect(kernel.ioctl(fd, R.MSHV_CHECK_EXTENSION, new Uint8Array(4))).toBe(-ENOTTY)
    // Another fd has its own bitmap.
    const other = kernel.open('/dev/mshv_hvcall', 2)
    expect(setup(kernel, other, [HypercallCode.EnableVpVtl], 8192)).toBe(0)
  })

  it('HVCALL forwards an allowed call, result in status; outside the bitmap is EPERM', () => {
    const kernel = new SimKernel({ vps: 1 })
    const fd = kernel.open('/dev/mshv_hvcall', 2)
    expect(setup(kernel, fd, [HypercallCode.EnablePartitionVtl])).toBe(0)
    const input = kernel.alloc(4096)
    input.bytes.set(enable)
    const output = kernel.alloc(4096)
    const call = (control: bigint, inputSize = BigInt(enable.byteLength), outputSize = 0n) =>
      struct(48, [
        [0, control],
        [8, inputSize],
        [16, input.address],
        [24, 0xffffn],
        [32, outputSize],
        [40, output.address],
      ])
    const ok = call(hvcallControl(HypercallCode.EnablePartitionVtl))
    expect(kernel.ioctl(fd, 0xc030b81f, ok)).toBe(0)
    expect(u64(ok, 24)).toBe(0n) // HV_STATUS_SUCCESS, the full result word
    const again = call(hvcallControl(HypercallCode.EnablePartitionVtl))
    expect(kernel.ioctl(fd, R.MSHV_HVCALL, again)).toBe(0)
    expect(u64(again, 24)).not.toBe(0n) // InvalidVtlState from the host, still ioctl 0
    expect(kernel.hypervisor.calls.map((c) => c.input)).toEqual([
      Buffer.from(enable).toString('hex'),
      Buffer.from(enable).toString('hex'),
    ])
    const denied = call(hvcallControl(HypercallCode.EnableVpVtl))
    expect(kernel.ioctl(fd, R.MSHV_HVCALL, denied)).toBe(-EPERM)
    expect(u64(denied, 24)).toBe(0xffffn)
    // Bits beyond the bitmap's bytes are not allowed either.
    expect(kernel.ioctl(fd, R.MSHV_HVCALL, call(hvcallControl(0x7fff)))).toBe(-EPERM)
    expect(kernel.hypervisor.calls).toHaveLength(2)
    const tooBig = call(hvcallControl(HypercallCode.EnablePartitionVtl), 4097n)
    expect(kernel.ioctl(fd, R.MSHV_HVCALL, tooBig)).toBe(-EINVAL)
    const bigOut = call(hvcallControl(HypercallCode.EnablePartitionVtl), 16n, 4097n)
    expect(kernel.ioctl(fd, R.MSHV_HVCALL, bigOut)).toBe(-EINVAL)
  })

  it('through HwPlatform: EPERM is an IoctlError naming it; the device refuses first', async () => {
    const kernel = new SimKernel({ vps: 2 })
    const hw = await HwPlatform.open({
      sys: kernel,
      cpuCount: 2,
      allowedHypercalls: [HypercallCode.EnablePartitionVtl],
      vtl0Memory: [{ startPfn: 0n, endPfn: 0x1000n }],
    })
    expect(hw.capabilities).toEqual({
      CORE_API_STABLE: 0,
      REGISTER_PAGE: 0,
      VTL_RETURN_ACTION: 0,
      DR6_SHARED: 0,
      LOWER_VTL_TIMER_VIRT: 1,
    })
    expect(kernel.vtl0Memory()).toEqual([{ startPfn: 0n, endPfn: 0x1000n, shared: false }])
    const control = hvcallControl(HypercallCode.EnableVpVtl)
    let error: unknown
    try {
      hw.hypervisor.hypercall(control, new Uint8Array(240))
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(HypercallNotAllowedError)
    expect(kernel.hypervisor.calls).toHaveLength(0)
    // The same call issued at the kernel on that fd: the kernel's own check.
    const input = kernel.alloc(240)
    try {
      hw.hvcall.ioctl(
        R.MSHV_HVCALL,
        struct(48, [
          [0, control],
          [8, 240n],
          [16, input.address],
        ])
      )
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(IoctlError)
    expect(error).toMatchObject({ errno: EPERM, requestName: 'MSHV_HVCALL' })
    kernel.free(input)
    const allowed = hw.hypervisor.hypercall(hvcallControl(HypercallCode.EnablePartitionVtl), enable)
    expect(allowed.result).toBe(0n)
    await hw.close()
    expect(kernel.leaks).toEqual([])
  })
})
