import {
  DEFAULT_VMX_FIXED_BITS,
  HvRegisterName,
  TdcallLeaf,
  VmxExitBasic,
  TDX_L2_ENTER_GUEST_STATE_SIZE,
  decodeTdxL2EnterGuestState,
  encodeTdxL2EnterGuestState,
  type L2VmIndex,
  type TdcallOutput,
  type TdxL2EnterGuestState,
} from '@vtl/core'
import { SoftwareTdxModule, UntrustedHypervisor, type VpEnterExit } from '@vtl/sim'
import { decodeHvRegisterAssoc, writeHvRegisterAssoc } from '../structs/hv-register-assoc.js'
import {
  MshvKickCpus,
  MshvTdcall,
  MshvVpRegisters,
  MshvVtlHvcall,
  MshvVtlHvcallSetup,
  MshvVtlRamDisposition,
  MshvVtlSetPollFile,
} from '../structs/mshv-structs.js'
import {
  RUN_PAGE_SIZE,
  RunPageOffset,
  TdxExitInfo,
  TdxVpContextOffset,
  TdxVpState,
  TdxL2TscDeadline,
} from '../structs/run-page.js'
import { Errno } from '../sys/errno.js'
import type { IoctlArg, PinnedThread, Syscalls, UserMemory } from '../sys/syscalls.js'
import {
  MSHV_HVCALL_BITMAP_MAX_BYTES,
  MSHV_HVCALL_IO_MAX,
  MSHV_RAM_DISPOSITION_SHARED_PFN_BIT,
  MSHV_REAL_OFF_SHIFT,
  MshvKickFlags,
  MshvRequest,
  MshvVtlPageKind,
} from '../uapi/mshv-requests.js'
import { tdxOpenHclExtensions, type SimExtensionTable } from './extensions.js'

const PAGE = 4096
const PAGE_BIG = 4096n
/** Run-page offset of `l2_enter_guest_state` (abi.md §1.7: 272 + 240 = 512, 256-B aligned). */
const L2_STATE_IN_RUN_PAGE = RunPageOffset.context + TdxVpContextOffset.l2EnterGuestState

/** The L2 guest behind TDG.VP.ENTER: it sees and may change the guest state the kernel passed. */
export type SimGuest = (
  cpu: number,
  vmIndex: L2VmIndex,
  state: TdxL2EnterGuestState & { gps: bigint[] }
) => VpEnterExit

export interface SimKernelOptions {
  /** The software TDX module (default: a new one with `vps` VPs and `memory` VTL0 RAM). */
  module?: SoftwareTdxModule
  /** The host behind `/dev/mshv_hvcall` (default: a new one with `vps` VPs). */
  hypervisor?: UntrustedHypervisor
  /** VPs = CPUs (default: the module's, else 1). */
  vps?: number
  /** VTL0 RAM in bytes from GPA 0 when the module is created here (default 16 MiB). */
  memory?: bigint
  /**
   * GPN of the paravisor (VTL2) page that holds CPU 0's run page; CPU n's is the next n pages.
   * The module must have them as accepted private RAM (TDG.VP.ENTER takes the GPA of
   * `l2_enter_guest_state`). Default: the first page after `memory` (a module created here gets
   * them as extra RAM).
   */
  runPageGpn?: bigint
  /** MSHV_CHECK_EXTENSION answers (default `tdxOpenHclExtensions({ dr6Shared })`). */
  extensions?: SimExtensionTable
  /** DR6 is served by the kernel (CAP DR6_SHARED); default false. */
  dr6Shared?: boolean
  /** MSHV_VTL_READ_VMX_CR4_FIXED1 (default core's `DEFAULT_VMX_FIXED_BITS.cr4Fixed1`). */
  cr4Fixed1?: bigint
  /** The CPU the unpinned (event-loop) thread runs on (default 0). */
  callingCpu?: number
  /** The L2 guest (default: every entry exits with HLT). Settable later as `guest`. */
  guest?: SimGuest
}

/** One ioctl as the simulated kernel answered it. */
export interface SimIoctlRecord {
  fd: number
  kind: SimFdKind
  request: number
  /** The CPU of the pinned thread; undefined for the calling (unpinned) thread. */
  cpu: number | undefined
  result: number
}

export type SimFdKind = 'mshv' | 'vtl' | 'hvcall' | 'eventfd'

interface MshvFd {
  kind: 'mshv'
}
interface VtlFdState {
  kind: 'vtl'
  vtl0Memory: { startPfn: bigint; endPfn: bigint; shared: boolean }[]
}
interface HvcallFdState {
  kind: 'hvcall'
  bitmap: Uint8Array | undefined
}
interface EventFdState {
  kind: 'eventfd'
  counter: bigint
  /** EFD_* flags as created. */
  flags: number
}
type FdState = MshvFd | VtlFdState | HvcallFdState | EventFdState

/** Device nodes of the model: path → what an open makes. */
const NODES: Readonly<Record<string, 'mshv' | 'hvcall'>> = {
  '/dev/mshv': 'mshv',
  '/dev/mshv_hvcall': 'hvcall',
}

/**
 * Hyper-V register names the fork's kernel serves itself on TDX (abi.md §1.4): DR0–DR3, DR6
 * when DR6 is shared, and the MTRR MSRs. Anything else would take the hypercall path, which the
 * fork refuses on TDX with -EINVAL (the state lives in the run page / VMCS).
 */
function nativeRegister(name: number, dr6Shared: boolean): boolean {
  if (name >= HvRegisterName.Dr0 && name <= HvRegisterName.Dr3) return true
  if (name === HvRegisterName.Dr6) return dr6Shared
  // HvX64RegisterMsrMtrrCap/DefType, PhysBase0..F, PhysMask0..F, Fix64k/16k/4k.
  return (
    name === 0x0008_000d ||
    name === 0x0008_000f ||
    (name >= 0x0008_0010 && name <= 0x0008_001f) ||
    (name >= 0x0008_0040 && name <= 0x0008_004f) ||
    (name >= 0x0008_0070 && name <= 0x0008_007a)
  )
}

function u32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at, true)
}

function u64(bytes: Uint8Array, at: number): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(at, true)
}

function setU64(bytes: Uint8Array, at: number, value: bigint): void {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setBigUint64(at, value, true)
}

/** A struct argument of exactly `size` bytes (the kernel copies that many; less faults). */
function structArg(arg: IoctlArg, size: number): Uint8Array | undefined {
  return arg instanceof Uint8Array && arg.byteLength >= size ? arg.subarray(0, size) : undefined
}

/**
 * The OpenHCL kernel's `mshv_vtl` interface as a `Syscalls` implementation, on top of
 * `@vtl/sim`'s software TDX module (TDCALL level) and untrusted hypervisor (hypercall level):
 * `/dev/mshv` (CHECK_EXTENSION, CREATE_VTL), the VTL fd (VTL0 memory, poll files, per-CPU run
 * and TDX APIC pages, RETURN_TO_LOWER_VTL through TDG.VP.ENTER, VP registers, the TDCALL
 * pass-through, CR4 fixed-1, KICK_CPU) and `/dev/mshv_hvcall` (allow bitmap, hypercalls). Every
 * call answers like the kernel: a result ≥ 0 or `-errno`; struct pointers are addresses this
 * kernel's own `alloc` (or `mmap`) handed out.
 */
export class SimKernel implements Syscalls {
  readonly module: SoftwareTdxModule
  readonly hypervisor: UntrustedHypervisor
  readonly vps: number
  readonly extensions: SimExtensionTable
  readonly dr6Shared: boolean
  readonly cr4Fixed1: bigint
  readonly callingCpu: number
  readonly runPageGpn: bigint
  /** The L2 guest run by TDG.VP.ENTER. */
  guest: SimGuest
  /** Every ioctl, in order, with its answer. */
  readonly ioctls: SimIoctlRecord[] = []
  /** Every open, with its flags and answer. */
  readonly opens: { path: string; flags: number; result: number }[] = []
  private readonly fds = new Map<number, FdState>()
  private readonly allocations = new Map<bigint, UserMemory>()
  private readonly mappings = new Map<bigint, UserMemory>()
  /** Per-CPU kernel pages by page offset `kind << 16 | cpu`. */
  private readonly pages = new Map<number, Uint8Array>()
  private readonly pollFiles = new Map<number, number>()
  private readonly nativeRegisters = new Map<string, bigint>()
  private readonly threads = new Set<PinnedThread>()
  /** The TSC deadline the kernel last armed per CPU (l2_tsc_deadline with update set). */
  readonly tscDeadlines = new Map<number, bigint>()
  private nextFd = 3
  private nextAddress = 0x7f00_0000_0000n

  constructor(options: SimKernelOptions = {}) {
    const vps = options.vps ?? options.module?.vps ?? 1
    if (!Number.isInteger(vps) || vps < 1) throw new RangeError(`SimKernel: vps ${vps}`)
    this.vps = vps
    const memory = options.memory ?? 16n << 20n
    this.runPageGpn = options.runPageGpn ?? memory / PAGE_BIG
    this.module =
      options.module ??
      new SoftwareTdxModule({
        vps,
        ram: [
          { gpn: 0, pages: memory / PAGE_BIG },
          { gpn: this.runPageGpn, pages: BigInt(vps), level: 0 },
        ],
        requireVirtualApicPage: false,
      })
    this.hypervisor = options.hypervisor ?? new UntrustedHypervisor({ vps })
    this.dr6Shared = options.dr6Shared ?? false
    this.extensions = options.extensions ?? tdxOpenHclExtensions({ dr6Shared: this.dr6Shared })
    this.cr4Fixed1 = options.cr4Fixed1 ?? DEFAULT_VMX_FIXED_BITS.cr4Fixed1
    this.callingCpu = options.callingCpu ?? 0
    this.guest = options.guest ?? (() => ({ exitReason: VmxExitBasic.HLT }))
    this.module.onEnter = (vp, vmIndex, _flags, guestStateGpa) =>
      this.enterGuest(vp, vmIndex, guestStateGpa)
  }

  // ---- queries for tests ----

  /** The kernel's page `kind` of `cpu` (the bytes every mapping of it shares). */
  page(kind: MshvVtlPageKind, cpu: number): Uint8Array {
    const key = (kind << MSHV_REAL_OFF_SHIFT) | cpu
    let page = this.pages.get(key)
    if (page === undefined) {
      page = new Uint8Array(RUN_PAGE_SIZE)
      this.pages.set(key, page)
    }
    return page
  }

  runPage(cpu: number): Uint8Array {
    return this.page(MshvVtlPageKind.RUN, cpu)
  }

  /** GPA of `cpu`'s `l2_enter_guest_state` (what TDG.VP.ENTER gets in RDX). */
  guestStateGpa(cpu: number): bigint {
    return ((this.runPageGpn + BigInt(cpu)) << 12n) + BigInt(L2_STATE_IN_RUN_PAGE)
  }

  /** VTL0 RAM ranges given with ADD_VTL0_MEMORY on any VTL fd. */
  vtl0Memory(): { startPfn: bigint; endPfn: bigint; shared: boolean }[] {
    const out: { startPfn: bigint; endPfn: bigint; shared: boolean }[] = []
    for (const fd of this.fds.values()) if (fd.kind === 'vtl') out.push(...fd.vtl0Memory)
    return out
  }

  /** The eventfd registered with SET_POLL_FILE for `cpu`. */
  pollFile(cpu: number): number | undefined {
    return this.pollFiles.get(cpu)
  }

  /** What is still open, mapped, allocated or running (empty when everything was released). */
  get leaks(): string[] {
    const out: string[] = []
    for (const [fd, state] of this.fds) out.push(`fd ${fd} (${state.kind})`)
    for (const address of this.mappings.keys()) out.push(`mapping 0x${address.toString(16)}`)
    for (const address of this.allocations.keys()) out.push(`allocation 0x${address.toString(16)}`)
    for (const thread of this.threads) out.push(`thread on cpu ${thread.cpu}`)
    return out
  }

  /** The bytes behind a user address range, or undefined (the kernel's -EFAULT). */
  resolve(address: bigint, length: number): Uint8Array | undefined {
    for (const memory of [...this.allocations.values(), ...this.mappings.values()]) {
      const offset = address - memory.address
      if (offset >= 0n && offset + BigInt(length) <= BigInt(memory.bytes.byteLength)) {
        const at = Number(offset)
        return memory.bytes.subarray(at, at + length)
      }
    }
    return undefined
  }

  // ---- Syscalls ----

  open(path: string, flags: number): number {
    const kind = NODES[path]
    const result =
      kind === undefined
        ? -Errno.ENOENT
        : this.newFd(kind === 'mshv' ? { kind } : { kind, bitmap: undefined })
    this.opens.push({ path, flags, result })
    return result
  }

  close(fd: number): number {
    if (!this.fds.delete(fd)) return -Errno.EBADF
    for (const [cpu, pollFd] of this.pollFiles) if (pollFd === fd) this.pollFiles.delete(cpu)
    return 0
  }

  ioctl(fd: number, request: number, arg: IoctlArg): number {
    return this.dispatch(fd, request, arg, undefined)
  }

  ioctlAsync(fd: number, request: number, arg: number | bigint): Promise<number> {
    return Promise.resolve(this.dispatch(fd, request, arg, undefined))
  }

  spawnPinnedThread(cpu: number): Promise<PinnedThread | number> {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.vps) return Promise.resolve(-Errno.EINVAL)
    let open = true
    const thread: PinnedThread = {
      cpu,
      ioctl: (fd, request, arg) =>
        open
          ? Promise.resolve(this.dispatch(fd, request, arg, cpu))
          : Promise.reject(new Error(`SimKernel: thread on cpu ${cpu} is closed`)),
      close: () => {
        open = false
        this.threads.delete(thread)
        return Promise.resolve()
      },
    }
    this.threads.add(thread)
    return Promise.resolve(thread)
  }

  mmap(fd: number, length: number, _prot: number, _flags: number, offset: bigint) {
    const state = this.fds.get(fd)
    if (state === undefined) return -Errno.EBADF
    if (state.kind !== 'vtl') return -Errno.ENODEV
    if (length !== PAGE || offset % PAGE_BIG !== 0n || offset < 0n) return -Errno.EINVAL
    const pageOffset = offset / PAGE_BIG
    const kind = Number(pageOffset >> BigInt(MSHV_REAL_OFF_SHIFT))
    const cpu = Number(pageOffset & ((1n << BigInt(MSHV_REAL_OFF_SHIFT)) - 1n))
    // On TDX the kernel has the run page and VTL0's virtual-APIC page; no register page on a
    // CVM, no SNP VMSAs (abi.md §1.5).
    if (kind !== MshvVtlPageKind.RUN && kind !== MshvVtlPageKind.TDX_APIC) return -Errno.EINVAL
    if (cpu >= this.vps) return -Errno.EINVAL
    const memory = { address: this.take(length), bytes: this.page(kind, cpu) }
    this.mappings.set(memory.address, memory)
    return memory
  }

  munmap(mapping: UserMemory): number {
    return this.mappings.delete(mapping.address) ? 0 : -Errno.EINVAL
  }

  alloc(size: number): UserMemory {
    const memory = { address: this.take(size), bytes: new Uint8Array(size) }
    this.allocations.set(memory.address, memory)
    return memory
  }

  free(memory: UserMemory): void {
    this.allocations.delete(memory.address)
  }

  schedSetaffinity(cpus: readonly number[]): number {
    if (cpus.length === 0 || cpus.some((cpu) => cpu < 0 || cpu >= this.vps)) return -Errno.EINVAL
    return 0
  }

  eventfd(initval: number, flags: number): number {
    return this.newFd({ kind: 'eventfd', counter: BigInt(initval), flags })
  }

  write(fd: number, bytes: Uint8Array): number {
    const state = this.fds.get(fd)
    if (state === undefined) return -Errno.EBADF
    if (state.kind !== 'eventfd' || bytes.byteLength < 8) return -Errno.EINVAL
    state.counter += u64(bytes, 0)
    // The poll file became readable: the kernel cancels that CPU's run (run->cancel = 1).
    for (const [cpu, pollFd] of this.pollFiles) {
      if (pollFd === fd) new DataView(this.runPage(cpu).buffer).setUint32(0, 1, true)
    }
    return 8
  }

  read(fd: number, bytes: Uint8Array): number {
    const state = this.fds.get(fd)
    if (state === undefined) return -Errno.EBADF
    if (state.kind !== 'eventfd' || bytes.byteLength < 8) return -Errno.EINVAL
    if (state.counter === 0n) return -Errno.EAGAIN
    setU64(bytes, 0, state.counter)
    state.counter = 0n
    return 8
  }

  // ---- the ioctls ----

  private dispatch(fd: number, request: number, arg: IoctlArg, cpu: number | undefined): number {
    const state = this.fds.get(fd)
    if (state === undefined) return -Errno.EBADF
    let result: number
    switch (state.kind) {
      case 'mshv':
        result = this.mshvIoctl(request, arg)
        break
      case 'vtl':
        result = this.vtlIoctl(state, request, arg, cpu ?? this.callingCpu)
        break
      case 'hvcall':
        result = this.hvcallIoctl(state, request, arg)
        break
      case 'eventfd':
        result = -Errno.ENOTTY
        break
    }
    this.ioctls.push({ fd, kind: state.kind, request, cpu, result })
    return result
  }

  private mshvIoctl(request: number, arg: IoctlArg): number {
    switch (request) {
      case MshvRequest.MSHV_CHECK_EXTENSION: {
        const bytes = structArg(arg, 4)
        if (bytes === undefined) return -Errno.EFAULT
        return this.extensions[u32(bytes, 0)] ?? -Errno.EOPNOTSUPP
      }
      case MshvRequest.MSHV_CREATE_VTL:
        return this.newFd({ kind: 'vtl', vtl0Memory: [] })
      default:
        return -Errno.ENOTTY
    }
  }

  private vtlIoctl(state: VtlFdState, request: number, arg: IoctlArg, cpu: number): number {
    switch (request) {
      case MshvRequest.MSHV_ADD_VTL0_MEMORY: {
        const bytes = structArg(arg, MshvVtlRamDisposition.size)
        if (bytes === undefined) return -Errno.EFAULT
        const { startPfn, lastPfn } = MshvVtlRamDisposition.decode(bytes)
        const shared = (startPfn & MSHV_RAM_DISPOSITION_SHARED_PFN_BIT) !== 0n
        const start = startPfn & ~MSHV_RAM_DISPOSITION_SHARED_PFN_BIT
        if (lastPfn <= start) return -Errno.EINVAL
        state.vtl0Memory.push({ startPfn: start, endPfn: lastPfn, shared })
        return 0
      }
      case MshvRequest.MSHV_SET_POLL_FILE: {
        const bytes = structArg(arg, MshvVtlSetPollFile.size)
        if (bytes === undefined) return -Errno.EFAULT
        const { cpu: target, fd } = MshvVtlSetPollFile.decode(bytes)
        if (target >= this.vps) return -Errno.EINVAL
        if (this.fds.get(fd)?.kind !== 'eventfd') return -Errno.EBADF
        this.pollFiles.set(target, fd)
        return 0
      }
      case MshvRequest.MSHV_RETURN_TO_LOWER_VTL:
        return this.returnToLowerVtl(cpu)
      case MshvRequest.MSHV_GET_VP_REGISTERS:
      case MshvRequest.MSHV_SET_VP_REGISTERS:
        return this.vpRegisters(request === MshvRequest.MSHV_SET_VP_REGISTERS, arg, cpu)
      case MshvRequest.MSHV_VTL_TDCALL:
        return this.tdcall(arg, cpu)
      case MshvRequest.MSHV_VTL_READ_VMX_CR4_FIXED1: {
        const bytes = structArg(arg, 8)
        if (bytes === undefined) return -Errno.EFAULT
        setU64(bytes, 0, this.cr4Fixed1)
        return 0
      }
      case MshvRequest.MSHV_VTL_KICK_CPU:
        return this.kickCpus(arg)
      default:
        return -Errno.ENOTTY
    }
  }

  /**
   * RETURN_TO_LOWER_VTL on `cpu` (abi.md §1.4, §1.7): -EINTR while `run->cancel` is set;
   * otherwise honours the vp_state flags and TSC deadline, issues TDG.VP.ENTER with RCX =
   * `entry_rcx` and RDX = the GPA of `l2_enter_guest_state`, and saves the outputs in
   * `exit_info` (the guest state is written back by the guest callback). Returns 0 whatever the
   * TDX status: user space decodes `exit_info.rax`.
   */
  private returnToLowerVtl(cpu: number): number {
    const run = this.runPage(cpu)
    const view = new DataView(run.buffer, run.byteOffset, run.byteLength)
    if (view.getUint32(RunPageOffset.cancel, true) !== 0) return -Errno.EINTR
    const context = run.subarray(RunPageOffset.context, RunPageOffset.context + 1024)
    const vpState = TdxVpState.read(context, TdxVpContextOffset.vpState)
    if (vpState.flags !== 0n) {
      TdxVpState.write(context, { flags: 0n }, TdxVpContextOffset.vpState)
    }
    const deadline = TdxL2TscDeadline.read(context, TdxVpContextOffset.l2TscDeadline)
    if ((deadline.update & 1) !== 0) {
      this.tscDeadlines.set(cpu, deadline.deadline)
      TdxL2TscDeadline.write(
        context,
        { deadline: deadline.deadline, update: 0 },
        TdxVpContextOffset.l2TscDeadline
      )
    }
    const rcx = view.getBigUint64(RunPageOffset.context + TdxVpContextOffset.entryRcx, true)
    const out = this.module.tdcall(cpu, {
      leaf: TdcallLeaf['TDG.VP.ENTER'],
      rcx,
      rdx: this.guestStateGpa(cpu),
      r8: 0n,
      r9: 0n,
    })
    TdxExitInfo.write(
      context,
      {
        rax: out.rax,
        rcx: out.rcx,
        rdx: out.rdx,
        rsi: 0n,
        rdi: 0n,
        r8: out.r8,
        r9: out.r9,
        r10: out.r10,
        r11: out.r11,
        r12: out.r12 ?? 0n,
        r13: 0n,
      },
      TdxVpContextOffset.exitInfo
    )
    return 0
  }

  /** The module's TDG.VP.ENTER callback: the guest runs on the state in `cpu`'s run page. */
  private enterGuest(vp: number, vmIndex: L2VmIndex, guestStateGpa: bigint): VpEnterExit {
    const cpu = Number((guestStateGpa >> 12n) - this.runPageGpn)
    if (cpu !== vp || (guestStateGpa & 0xfffn) !== BigInt(L2_STATE_IN_RUN_PAGE)) {
      throw new Error(`SimKernel: TDG.VP.ENTER on vp ${vp} with a foreign guest state`)
    }
    const bytes = this.runPage(cpu).subarray(
      L2_STATE_IN_RUN_PAGE,
      L2_STATE_IN_RUN_PAGE + TDX_L2_ENTER_GUEST_STATE_SIZE
    )
    const state = decodeTdxL2EnterGuestState(bytes)
    const mutable = { ...state, gps: [...state.gps] }
    const exit = this.guest(cpu, vmIndex, mutable)
    bytes.set(encodeTdxL2EnterGuestState(mutable))
    return exit
  }

  /**
   * GET/SET_VP_REGISTERS for the calling CPU's VP, VTL0: exactly one register (else -EINVAL);
   * the kernel serves DR0–3, DR6 (if shared) and the MTRRs itself; anything else would be a
   * HvCall{Get,Set}VpRegisters, which the fork refuses on TDX with -EINVAL.
   */
  private vpRegisters(set: boolean, arg: IoctlArg, cpu: number): number {
    const bytes = structArg(arg, MshvVpRegisters.size)
    if (bytes === undefined) return -Errno.EFAULT
    const { count, regsPtr } = MshvVpRegisters.decode(bytes)
    if (count !== 1) return -Errno.EINVAL
    const assoc = this.resolve(regsPtr, 32)
    if (assoc === undefined) return -Errno.EFAULT
    const register = decodeHvRegisterAssoc(assoc)
    if (!nativeRegister(register.name, this.dr6Shared)) return -Errno.EINVAL
    const key = `${cpu}:${register.name}`
    if (set) this.nativeRegisters.set(key, register.value)
    else
      writeHvRegisterAssoc(assoc, {
        name: register.name,
        value: this.nativeRegisters.get(key) ?? 0n,
      })
    return 0
  }

  /**
   * MSHV_VTL_TDCALL: the 56-byte packed struct; leaf (RAX 15:0), RCX, RDX, R8, R9 go to the
   * module on the calling CPU's vCPU; RAX (status), RCX, RDX, R8, R9, R10, R11 come back. The
   * ioctl returns 0 whatever the status. TDG.VP.VMCALL (leaf 0) is refused with -EINVAL.
   */
  private tdcall(arg: IoctlArg, cpu: number): number {
    const bytes = structArg(arg, MshvTdcall.size)
    if (bytes === undefined) return -Errno.EFAULT
    const input = MshvTdcall.decode(bytes)
    const leaf = Number(input.rax & 0xffffn)
    if (leaf === TdcallLeaf['TDG.VP.VMCALL']) return -Errno.EINVAL
    const out: TdcallOutput = this.module.tdcall(cpu, {
      leaf,
      rcx: input.rcx,
      rdx: input.rdx,
      r8: input.r8,
      r9: input.r9,
    })
    MshvTdcall.write(bytes, {
      rax: out.rax,
      rcx: out.rcx,
      rdx: out.rdx,
      r8: out.r8,
      r9: out.r9,
      r10Out: out.r10,
      r11Out: out.r11,
    })
    return 0
  }

  /** MSHV_VTL_KICK_CPU: CANCEL_CPU_RUN sets `run->cancel` of every CPU in the mask. */
  private kickCpus(arg: IoctlArg): number {
    const bytes = structArg(arg, MshvKickCpus.size)
    if (bytes === undefined) return -Errno.EFAULT
    const { len, cpuMaskPtr, flags } = MshvKickCpus.decode(bytes)
    const mask = this.resolve(cpuMaskPtr, Number(len))
    if (mask === undefined) return -Errno.EFAULT
    for (let cpu = 0; cpu < Math.min(this.vps, mask.byteLength * 8); cpu++) {
      if (((mask[cpu >> 3] ?? 0) & (1 << (cpu & 7))) === 0) continue
      if ((flags & BigInt(MshvKickFlags.CANCEL_CPU_RUN)) !== 0n) {
        new DataView(this.runPage(cpu).buffer).setUint32(0, 1, true)
      }
    }
    return 0
  }

  private hvcallIoctl(state: HvcallFdState, request: number, arg: IoctlArg): number {
    switch (request) {
      case MshvRequest.MSHV_HVCALL_SETUP: {
        const bytes = structArg(arg, MshvVtlHvcallSetup.size)
        if (bytes === undefined) return -Errno.EFAULT
        if (state.bitmap !== undefined) return -Errno.EINVAL
        const { bitmapArraySize, allowBitmapPtr } = MshvVtlHvcallSetup.decode(bytes)
        if (bitmapArraySize > BigInt(MSHV_HVCALL_BITMAP_MAX_BYTES)) return -Errno.EINVAL
        const bitmap = this.resolve(allowBitmapPtr, Number(bitmapArraySize))
        if (bitmap === undefined) return -Errno.EFAULT
        state.bitmap = bitmap.slice()
        return 0
      }
      case MshvRequest.MSHV_HVCALL:
        return this.hvcall(state, arg)
      default:
        return -Errno.ENOTTY
    }
  }

  /**
   * MSHV_HVCALL: `control & 0xFFFF` must be in the fd's allow bitmap (-EPERM), sizes ≤ 4096
   * (-EINVAL); the call goes to the hypervisor, the 64-bit result lands in `status`, output
   * bytes at `output_ptr`, and the ioctl returns 0.
   */
  private hvcall(state: HvcallFdState, arg: IoctlArg): number {
    const bytes = structArg(arg, MshvVtlHvcall.size)
    if (bytes === undefined) return -Errno.EFAULT
    if (state.bitmap === undefined) return -Errno.EINVAL
    const call = MshvVtlHvcall.decode(bytes)
    const code = Number(call.control & 0xffffn)
    if (((state.bitmap[code >> 3] ?? 0) & (1 << (code & 7))) === 0) return -Errno.EPERM
    const max = BigInt(MSHV_HVCALL_IO_MAX)
    if (call.inputSize > max || call.outputSize > max) return -Errno.EINVAL
    const input = this.resolve(call.inputPtr, Number(call.inputSize))
    const output =
      call.outputSize === 0n
        ? new Uint8Array(0)
        : this.resolve(call.outputPtr, Number(call.outputSize))
    if (input === undefined || output === undefined) return -Errno.EFAULT
    const answer = this.hypervisor.hypercall(call.control, input.slice())
    if (answer.output !== undefined) {
      output.set(answer.output.subarray(0, Math.min(answer.output.byteLength, output.byteLength)))
    }
    MshvVtlHvcall.write(bytes, { status: answer.result })
    return 0
  }

  private newFd(state: FdState): number {
    const fd = this.nextFd++
    this.fds.set(fd, state)
    return fd
  }

  private take(size: number): bigint {
    const address = this.nextAddress
    this.nextAddress += BigInt(Math.ceil(Math.max(size, 1) / PAGE) * PAGE)
    return address
  }
}
