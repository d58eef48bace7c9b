import {
  HvStatus,
  HypercallCode,
  TdxStatus,
  VmcsField,
  encodeEnablePartitionVtl,
  encodeHypercallControl,
  encodeHypercallResult,
  makeTdxStatus,
  vmcsFieldCode,
} from '@vtl/core'
import { tdcallRegisters, type PlanOp } from '@vtl/memory'
import { describe, expect, it } from 'vitest'
import { decodeTdcallArg } from '../devices/vtl-fd.js'
import { RUN_PAGE_SIZE, RunPage } from '../structs/run-page.js'
import { FakeSyscalls, setU64, thrown, u32, u64, type IoctlContext } from '../test/fake-syscalls.js'
import { HwPlatform } from './hw-platform.js'

const TDCALL = 0xc038b832
const RETURN = 0xb827
const HVCALL = 0xc030b81f
const EINVAL = 22

/** A fake mshv_vtl kernel: CREATE_VTL gives a fd, TDCALLs succeed and echo old values. */
function kernel(extra?: (call: IoctlContext) => number | undefined): FakeSyscalls {
  const fake = new FakeSyscalls(['/dev/mshv', '/dev/mshv_hvcall'])
  fake.onIoctl = (call) => {
    const answer = extra?.(call)
    if (answer !== undefined) return answer
    if (call.request === 0x8001b81d) return call.fake.newFd('anon:mshv_vtl')
    return 0
  }
  return fake
}

async function platform(fake: FakeSyscalls, cpuCount = 2): Promise<HwPlatform> {
  return HwPlatform.open({ sys: fake, cpuCount, vtl0Memory: [{ startPfn: 0n, endPfn: 0x100n }] })
}

describe('HwPlatform.open', () => {
  it('opens /dev/mshv, creates the VTL, sets up hvcall, adds VTL0 RAM — in that order', async () => {
    const fake = kernel()
    const hw = await platform(fake)
    expect(fake.requests()).toEqual([
      0x4004b800, 0x4004b800, 0x4004b800, 0x4004b800, 0x4004b800, 0x8001b81d, 0x4010b81e,
      0x4010b821,
    ])
    expect(hw.capabilities).toEqual({
      CORE_API_STABLE: 0,
      REGISTER_PAGE: 0,
      VTL_RETURN_ACTION: 0,
      DR6_SHARED: 0,
      LOWER_VTL_TIMER_VIRT: 0,
    })
    expect(fake.trace.filter((t) => t.startsWith('open'))).toEqual([
      'open /dev/mshv',
      'open /dev/mshv_hvcall',
    ])
    await hw.close()
    expect(fake.leaks).toEqual([])
  })

  it('releases everything when a step fails', async () => {
    const fake = kernel(({ request }) => (request === 0x4010b821 ? -EINVAL : undefined))
    await expect(platform(fake)).rejects.toMatchObject({
      code: 'E_IOCTL',
      requestName: 'MSHV_ADD_VTL0_MEMORY',
      errnoName: 'EINVAL',
    })
    expect(fake.leaks).toEqual([])
    const missing = new FakeSyscalls(['/dev/mshv'])
    missing.onIoctl = ({ request, fake: k }) =>
      request === 0x8001b81d ? k.newFd('anon:mshv_vtl') : 0
    await expect(HwPlatform.open({ sys: missing, cpuCount: 1 })).rejects.toMatchObject({
      syscall: 'open',
      path: '/dev/mshv_hvcall',
    })
    expect(missing.leaks).toEqual([])
  })
})

describe('HypervisorPort on MSHV_HVCALL', () => {
  it('forwards EnablePartitionVtl and returns the result word', async () => {
    const fake = kernel(({ request, arg }) => {
      if (request === HVCALL && arg instanceof Uint8Array) {
        setU64(arg, 24, encodeHypercallResult({ status: HvStatus.Success, repsCompleted: 0 }))
        return 0
      }
      return undefined
    })
    const hw = await platform(fake)
    const input = encodeEnablePartitionVtl({
      partitionId: 0xffff_ffff_ffff_ffffn,
      targetVtl: 1,
      flags: {
        raw: 0,
        enableMbec: false,
        enableSupervisorShadowStack: false,
        enableHardwareHvpt: false,
      },
    })
    const control = encodeHypercallControl({
      code: HypercallCode.EnablePartitionVtl,
      fast: false,
      variableHeaderSize: 0,
      nested: false,
      repCount: 0,
      repStart: 0,
    })
    expect(hw.hypervisor.hypercall(control, input)).toEqual({ result: 0n })
    expect(fake.requests().at(-1)).toBe(HVCALL)
    // VtlCall is not in the allow bitmap: refused before any syscall.
    const before = fake.ioctls.length
    expect(() => hw.hypervisor.hypercall(BigInt(HypercallCode.VtlCall), new Uint8Array(0))).toThrow(
      expect.objectContaining({ name: 'HypercallNotAllowedError' })
    )
    expect(fake.ioctls).toHaveLength(before)
    await hw.close()
  })
})

describe('plan sink', () => {
  it('issues ACCEPT / ATTR.WR / RELEASE as TDCALLs with @vtl/memory’s registers and returns RAX', async () => {
    const busy = makeTdxStatus(TdxStatus.TDX_OPERAND_BUSY)
    const fake = kernel(({ request, arg }) => {
      if (request === TDCALL && arg instanceof Uint8Array && u64(arg, 0) === 24n)
        setU64(arg, 0, busy)
      else if (request === TDCALL && arg instanceof Uint8Array) setU64(arg, 0, 0n)
      return request === TDCALL ? 0 : undefined
    })
    const hw = await platform(fake)
    fake.ioctls.length = 0
    const ops: PlanOp[] = [
      { kind: 'accept', gpn: 0x200n, level: 1 },
      { kind: 'attr-write', gpn: 0x200n, level: 0, vtl: 1, attr: 0x8003, mask: 0xf },
      { kind: 'release', gpn: 0x400n, level: 0 },
    ]
    const statuses = ops.map((op) => hw.planSink.execute(op))
    expect(statuses).toEqual([0n, busy, 0n])
    ops.forEach((op, i) => {
      const sent = decodeTdcallArg(fake.ioctls[i]?.bytes ?? new Uint8Array(56))
      const regs = tdcallRegisters(op)
      expect(fake.ioctls[i]?.request).toBe(TDCALL)
      expect([sent.rcx, sent.rdx, sent.r8]).toEqual([regs.rcx, regs.rdx, regs.r8])
    })
    await hw.close()
  })

  it('tells the host about a map-gpa op with ModifySparseGpaPageHostVisibility', async () => {
    const gpnsSeen: bigint[] = []
    const fake = kernel(({ request, arg, fake: k }) => {
      if (request !== HVCALL || !(arg instanceof Uint8Array)) return undefined
      const control = u64(arg, 0)
      const reps = Number((control >> 32n) & 0xfffn)
      const input = k.resolve(u64(arg, 16), Number(u64(arg, 8)))
      expect(Number(control & 0xffffn)).toBe(HypercallCode.ModifySparseGpaPageHostVisibility)
      expect(u32(input, 8)).toBe(3)
      for (let i = 0; i < reps; i++) gpnsSeen.push(u64(input, 16 + 8 * i))
      setU64(arg, 24, encodeHypercallResult({ status: 0, repsCompleted: reps }))
      return 0
    })
    const hw = await platform(fake)
    fake.ioctls.length = 0
    expect(hw.planSink.execute({ kind: 'map-gpa', gpn: 0x1000n, pages: 600n, shared: true })).toBe(
      0n
    )
    // 600 pages → one full input page of 510 GPNs, then 90.
    expect(fake.ioctls).toHaveLength(2)
    expect(gpnsSeen).toHaveLength(600)
    expect(gpnsSeen.at(-1)).toBe(0x1000n + 599n)
    await hw.close()
  })
})

describe('VpPort and the VP run loop', () => {
  it('queues VMCS writes, applies them on the VP’s pinned thread, then enters with the bank', async () => {
    const fake = kernel(({ request, arg, cpu }) => {
      if (request === TDCALL && arg instanceof Uint8Array) {
        setU64(arg, 0, 0n)
        setU64(arg, 24, 0x77n) // R8: the old value
        return 0
      }
      if (request === RETURN) {
        const page = new RunPage(fake.page('anon:mshv_vtl', BigInt(cpu ?? 0) * 4096n))
        const state = page.l2EnterGuestState()
        page.setL2EnterGuestState({ ...state, rip: state.rip + 3n })
        setU64(page.context(), 0, 12n) // exit_info.rax: HLT, an ordinary L2 exit
        return 0
      }
      return undefined
    })
    const hw = await platform(fake)
    const runner = await hw.runner(1)
    fake.ioctls.length = 0
    expect(hw.vp.writeVtlRegisters(1, 1, { cr0: 0x8000_0031n, rip: 0x1000n, rsp: 0x8000n })).toBe(
      HvStatus.Success
    )
    // Nothing reaches the kernel until the VP runs on its own CPU.
    expect(fake.ioctls).toEqual([])
    const gprs = Array.from({ length: 16 }, (_, i) => BigInt(i))
    const outcome = await runner.run({ vtl: 1, gprs })
    const writes = fake.ioctls.filter((c) => c.request === TDCALL)
    expect(writes.map((c) => c.cpu)).toEqual([1, 1])
    expect(writes.map((c) => decodeTdcallArg(c.bytes ?? new Uint8Array(56)).rdx)).toEqual([
      vmcsFieldCode(1, VmcsField.GUEST_CR0),
      vmcsFieldCode(1, VmcsField.CR0_READ_SHADOW),
    ])
    expect(fake.ioctls.at(-1)).toMatchObject({ request: RETURN, cpu: 1 })
    expect(outcome.kind).toBe('exit')
    if (outcome.kind !== 'exit') return
    expect(outcome.guestState.rip).toBe(0x1003n)
    expect(outcome.guestState.gps[4]).toBe(0x8000n) // RSP from the VTL1 bank, not gprs[4]
    expect(outcome.enter.vmxExit.basicReason).toBe(12)
    expect(runner.runPage.entryRcx).toBe(2n << 52n) // VM index 2 = VTL1
    await hw.close()
    expect(fake.leaks).toEqual([])
  })

  it('rolls back earlier writes when one fails, and does not enter', async () => {
    let n = 0
    const fake = kernel(({ request, arg }) => {
      if (request !== TDCALL || !(arg instanceof Uint8Array)) return undefined
      n++
      setU64(arg, 0, n === 2 ? makeTdxStatus(TdxStatus.TDX_OPERAND_INVALID) : 0n)
      setU64(arg, 24, 0x55n)
      return 0
    })
    const hw = await platform(fake)
    const runner = await hw.runner(0)
    fake.ioctls.length = 0
    hw.vp.writeVtlRegisters(0, 0, { cr3: 0x1000n, efer: 0x500n })
    const outcome = await runner.run({ vtl: 0, gprs: Array.from({ length: 16 }, () => 0n) })
    expect(outcome).toMatchObject({ kind: 'vmcs-write-failed', encoding: VmcsField.GUEST_EFER })
    const sent = fake.ioctls.map((c) => decodeTdcallArg(c.bytes ?? new Uint8Array(56)))
    expect(sent).toHaveLength(3)
    expect(sent[2]?.rdx).toBe(vmcsFieldCode(0, VmcsField.GUEST_CR3))
    expect(sent[2]?.r8).toBe(0x55n)
    expect(fake.requests()).not.toContain(RETURN)
    await hw.close()
  })

  it('reports a cancelled run, and wakes through the poll eventfd or KICK_CPU', async () => {
    const fake = kernel(({ request, cpu }) => {
      if (request !== RETURN) return undefined
      new RunPage(fake.page('anon:mshv_vtl', BigInt(cpu ?? 0) * 4096n)).cancel = 1
      return -4
    })
    const hw = await platform(fake)
    const runner = await hw.runner(0)
    await expect(
      runner.run({ vtl: 0, gprs: Array.from({ length: 16 }, () => 0n) })
    ).resolves.toEqual({
      kind: 'cancelled',
    })
    expect(runner.runPage.cancel).toBe(0)
    expect(fake.requests()).toContain(0x4008b825) // SET_POLL_FILE for the eventfd
    hw.vp.wakeVp(0)
    expect(fake.eventfdWrites).toEqual([{ fd: expect.any(Number) as unknown, value: 1n }])
    hw.vp.wakeVp(1)
    expect(fake.requests().at(-1)).toBe(0x4018b838)
    await hw.close()
    expect(fake.leaks).toEqual([])
  })

  it('loops: run, hand the outcome to the engine, run again until it stops', async () => {
    const fake = kernel()
    const hw = await platform(fake)
    const runner = await hw.runner(0)
    const gprs = Array.from({ length: 16 }, () => 0n)
    let exits = 0
    const last = await runner.loop({ vtl: 0, gprs }, (outcome) => {
      expect(outcome.kind).toBe('exit')
      exits++
      return exits < 3 ? { vtl: exits % 2 === 0 ? 0 : 1, gprs } : undefined
    })
    expect(exits).toBe(3)
    expect(last.kind).toBe('exit')
    expect(fake.ioctls.filter((c) => c.request === RETURN).map((c) => c.cpu)).toEqual([0, 0, 0])
    await hw.close()
  })

  it('treats an unknown extension as absent but a refused open of it as an error', async () => {
    const fake = kernel(({ request, arg }) =>
      request === 0x4004b800 && arg instanceof Uint8Array && arg[0] === 4 ? -95 : undefined
    )
    const hw = await platform(fake)
    expect(hw.capabilities.LOWER_VTL_TIMER_VIRT).toBeUndefined()
    await hw.close()
    const denied = kernel(({ request }) => (request === 0x4004b800 ? -1 : undefined))
    await expect(platform(denied)).rejects.toMatchObject({ errnoName: 'EPERM' })
    expect(denied.leaks).toEqual([])
  })

  it('refuses a VP beyond the CPU count and an unencodable value', async () => {
    const fake = kernel()
    const hw = await platform(fake, 2)
    const count = fake.ioctls.length
    expect(
      thrown(() => {
        hw.vp.wakeVp(2)
      })
    ).toMatchObject({ code: 'E_FIELD_RANGE' })
    expect(thrown(() => hw.vp.writeVtlRegisters(5, 0, { cr3: 0n }))).toMatchObject({
      code: 'E_FIELD_RANGE',
    })
    expect(hw.vp.writeVtlRegisters(0, 0, { cr3: -1n })).toBe(HvStatus.InvalidRegisterValue)
    expect(hw.vpState(0).pendingCount).toBe(0)
    await expect(hw.runner(2)).rejects.toMatchObject({ code: 'E_FIELD_RANGE' })
    expect(fake.ioctls).toHaveLength(count)
    await hw.close()
    expect(fake.leaks).toEqual([])
  })

  it('leaves nothing behind when a runner cannot be set up', async () => {
    const fake = kernel()
    const hw = await platform(fake)
    fake.failMmap = 12
    await expect(hw.runner(0)).rejects.toMatchObject({ syscall: 'mmap' })
    expect(fake.threads.size).toBe(0)
    fake.failMmap = 0
    fake.failSpawn = 22
    await expect(hw.runner(0)).rejects.toMatchObject({ syscall: 'sched_setaffinity' })
    await hw.close()
    expect(fake.leaks).toEqual([])
  })

  it('injects an exception as VM-entry interruption info on the VTL’s VMCS', async () => {
    const fake = kernel(({ request, arg }) => {
      if (request === TDCALL && arg instanceof Uint8Array) setU64(arg, 0, 0n)
      return request === TDCALL ? 0 : undefined
    })
    const hw = await platform(fake)
    const runner = await hw.runner(0)
    fake.ioctls.length = 0
    hw.vp.injectException(0, 1, { vector: 13, errorCode: 0 })
    await runner.run({ vtl: 1, gprs: Array.from({ length: 16 }, () => 0n) })
    const sent = fake.ioctls
      .filter((c) => c.request === TDCALL)
      .map((c) => decodeTdcallArg(c.bytes ?? new Uint8Array(56)))
    expect(sent.map((s) => [s.rdx, s.r8])).toEqual([
      [vmcsFieldCode(1, VmcsField.ENTRY_EXCEPTION_ERROR_CODE), 0n],
      [vmcsFieldCode(1, VmcsField.ENTRY_INTERRUPT_INFO), BigInt((0x8000_0b0d | 0) >>> 0)],
    ])
    await hw.close()
  })
})

it('a run page is exactly one page', () => {
  expect(RUN_PAGE_SIZE).toBe(4096)
})
