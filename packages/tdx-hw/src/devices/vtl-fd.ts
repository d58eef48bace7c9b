import { availableParallelism } from 'node:os'
import {
  VtlError,
  encodeTdcallRax,
  tdcallLeafName,
  type HvRegisterAssoc,
  type TdcallInput,
  type TdcallOutput,
} from '@vtl/core'
import {
  HV_REGISTER_ASSOC_BYTES,
  decodeHvRegisterAssoc,
  writeHvRegisterAssoc,
} from '../structs/hv-register-assoc.js'
import {
  MshvKickCpus,
  MshvTdcall,
  MshvVpRegisters,
  MshvVtlRamDisposition,
  MshvVtlSetPollFile,
} from '../structs/mshv-structs.js'
import { RUN_PAGE_SIZE, RunPage } from '../structs/run-page.js'
import { Errno } from '../sys/errno.js'
import { SyscallError } from '../sys/syscall-error.js'
import {
  MapFlags,
  Prot,
  type PinnedThread,
  type Syscalls,
  type UserMemory,
} from '../sys/syscalls.js'
import {
  MSHV_RAM_DISPOSITION_SHARED_PFN_BIT,
  MSHV_REAL_OFF_SHIFT,
  MshvKickFlags,
  MshvRequest,
  MshvVtlPageKind,
} from '../uapi/mshv-requests.js'
import { DeviceFd, withMemory } from './device-fd.js'

export interface VtlFdOptions {
  /** CPUs (= VPs) of the partition; VP indexes at or above it are refused. Default: this host's. */
  cpuCount?: number
}

/** A TDCALL as the pass-through takes it; R10–R15 may be named only to be checked as zero. */
export type TdcallRequest = TdcallInput & {
  r10?: bigint
  r11?: bigint
  r12?: bigint
  r13?: bigint
  r14?: bigint
  r15?: bigint
}

/** One VTL0 RAM range for ADD_VTL0_MEMORY: `[startPfn, endPfn)`. */
export interface Vtl0MemoryRange {
  startPfn: bigint
  endPfn: bigint
  /** Shared (decrypted) pages: start_pfn bit 51 (fork). */
  shared?: boolean
}

export type ReturnToLowerVtlOutcome = 'exit' | 'cancelled'

const PFN_LIMIT = 1n << 51n

/**
 * The anonymous fd MSHV_CREATE_VTL returns: per-CPU pages, the run ioctl, VP registers of the
 * calling CPU, and the TDX TDCALL pass-through. Mappings made here are unmapped when it closes.
 */
export class VtlFd extends DeviceFd {
  readonly cpuCount: number
  private readonly mappings = new Set<UserMemory>()

  constructor(sys: Syscalls, fd: number, options: VtlFdOptions = {}) {
    super(sys, fd, 'anon:mshv_vtl', 'vtl')
    this.cpuCount = options.cpuCount ?? availableParallelism()
  }

  checkCpu(cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpuCount) {
      throw new VtlError(
        'E_FIELD_RANGE',
        `VP/CPU index ${cpu} is outside 0..${this.cpuCount - 1}`,
        { field: 'cpu' }
      )
    }
  }

  /** MSHV_ADD_VTL0_MEMORY for `[startPfn, endPfn)`. */
  addVtl0Memory(range: Vtl0MemoryRange): void {
    const { startPfn, endPfn } = range
    if (startPfn < 0n || endPfn > PFN_LIMIT || startPfn >= PFN_LIMIT) {
      throw new VtlError('E_BEYOND_GPA_WIDTH', 'VTL0 PFN range is beyond 2^51', { field: 'pfn' })
    }
    if (endPfn <= startPfn) {
      throw new VtlError(
        endPfn === startPfn ? 'E_RANGE_EMPTY' : 'E_RANGE_REVERSED',
        `VTL0 range [0x${startPfn.toString(16)}, 0x${endPfn.toString(16)}) is empty or reversed`,
        { field: 'lastPfn' }
      )
    }
    const start = range.shared === true ? startPfn | MSHV_RAM_DISPOSITION_SHARED_PFN_BIT : startPfn
    this.ioctl(
      MshvRequest.MSHV_ADD_VTL0_MEMORY,
      MshvVtlRamDisposition.encode({ startPfn: start, lastPfn: endPfn })
    )
  }

  /** MSHV_SET_POLL_FILE: when `fd` becomes readable, the run on `cpu` is cancelled. */
  setPollFile(cpu: number, fd: number): void {
    this.checkCpu(cpu)
    this.ioctl(MshvRequest.MSHV_SET_POLL_FILE, MshvVtlSetPollFile.encode({ cpu, fd }))
  }

  /** Maps one per-CPU page: file page offset `kind << 16 | cpu`, 4096 bytes, shared R/W. */
  mapPage(kind: MshvVtlPageKind, cpu: number): UserMemory {
    this.checkCpu(cpu)
    const pageOffset = (BigInt(kind) << BigInt(MSHV_REAL_OFF_SHIFT)) | BigInt(cpu)
    const mapping = this.sys.mmap(
      this.fd,
      RUN_PAGE_SIZE,
      Prot.READ | Prot.WRITE,
      MapFlags.SHARED,
      pageOffset * 4096n
    )
    if (typeof mapping === 'number') {
      throw new SyscallError({ syscall: 'mmap', errno: -mapping, path: this.path })
    }
    this.mappings.add(mapping)
    return mapping
  }

  mapRunPage(cpu: number): RunPage {
    return new RunPage(this.mapPage(MshvVtlPageKind.RUN, cpu).bytes)
  }

  unmap(mapping: UserMemory): void {
    if (!this.mappings.delete(mapping)) return
    const result = this.sys.munmap(mapping)
    if (result < 0) throw new SyscallError({ syscall: 'munmap', errno: -result, path: this.path })
  }

  get mappingCount(): number {
    return this.mappings.size
  }

  /**
   * MSHV_RETURN_TO_LOWER_VTL on `thread` (pinned to the VP's CPU: the kernel runs the calling
   * CPU's VP). -EINTR with `run.cancel` set means a poll file or kick cancelled the run: the
   * flag is cleared and the outcome is 'cancelled'. Any other failure throws IoctlError.
   */
  async returnToLowerVtl(thread: PinnedThread, run: RunPage): Promise<ReturnToLowerVtlOutcome> {
    this.checkCpu(thread.cpu)
    const request = MshvRequest.MSHV_RETURN_TO_LOWER_VTL
    const result = await thread.ioctl(this.fd, request, 0)
    if (result >= 0) return 'exit'
    if (-result === Errno.EINTR && run.cancel !== 0) {
      run.cancel = 0
      return 'cancelled'
    }
    throw this.error(request, -result)
  }

  /**
   * MSHV_GET_VP_REGISTERS on `thread`, pinned to the VP's CPU: the kernel serves the calling
   * CPU's VP, so this is the form to use for a given VP.
   */
  async getVpRegisterOn(thread: PinnedThread, name: number): Promise<bigint> {
    this.checkCpu(thread.cpu)
    const assoc = this.sys.alloc(HV_REGISTER_ASSOC_BYTES)
    try {
      writeHvRegisterAssoc(assoc.bytes, { name, value: 0n })
      const request = MshvRequest.MSHV_GET_VP_REGISTERS
      const result = await thread.ioctl(this.fd, request, vpRegistersArg(1, assoc.address))
      if (result < 0) throw this.error(request, -result)
      return decodeHvRegisterAssoc(assoc.bytes).value
    } finally {
      this.sys.free(assoc)
    }
  }

  /**
   * MSHV_GET_VP_REGISTERS for one register of the VP of whatever CPU the calling thread is on
   * (always VTL0). Use `getVpRegisterOn` to choose the VP.
   */
  getVpRegister(name: number): bigint {
    return withMemory(this.sys, HV_REGISTER_ASSOC_BYTES, (assoc) => {
      writeHvRegisterAssoc(assoc.bytes, { name, value: 0n })
      this.ioctl(MshvRequest.MSHV_GET_VP_REGISTERS, vpRegistersArg(1, assoc.address))
      return decodeHvRegisterAssoc(assoc.bytes).value
    })
  }

  /** MSHV_SET_VP_REGISTERS for one register. */
  setVpRegister(register: HvRegisterAssoc): void {
    withMemory(this.sys, HV_REGISTER_ASSOC_BYTES, (assoc) => {
      writeHvRegisterAssoc(assoc.bytes, register)
      this.ioctl(MshvRequest.MSHV_SET_VP_REGISTERS, vpRegistersArg(1, assoc.address))
    })
  }

  /**
   * MSHV_VTL_TDCALL: a TD-module call forwarded by the kernel. VMCALL (leaf 0) is refused, and so
   * is any nonzero R10–R15, before the syscall (openvmm asserts the same). The TDX status comes
   * back in `rax`; the ioctl itself failing is a kernel error (IoctlError).
   */
  tdcall(input: TdcallRequest): TdcallOutput {
    const arg = encodeTdcallArg(input)
    this.ioctl(MshvRequest.MSHV_VTL_TDCALL, arg)
    return decodeTdcallArg(arg)
  }

  /**
   * The same on `thread`: TDG.VP.RD/WR act on the calling CPU's TD vCPU, so a VP's VMCS is
   * reached only from a thread pinned to that VP's CPU.
   */
  async tdcallOn(thread: PinnedThread, input: TdcallRequest): Promise<TdcallOutput> {
    const arg = encodeTdcallArg(input)
    const result = await thread.ioctl(this.fd, MshvRequest.MSHV_VTL_TDCALL, arg)
    if (result < 0) throw this.error(MshvRequest.MSHV_VTL_TDCALL, -result)
    return decodeTdcallArg(arg)
  }

  /** MSHV_VTL_READ_VMX_CR4_FIXED1: the CR4 bits VMX allows set. */
  readVmxCr4Fixed1(): bigint {
    const out = new Uint8Array(8)
    this.ioctl(MshvRequest.MSHV_VTL_READ_VMX_CR4_FIXED1, out)
    return new DataView(out.buffer).getBigUint64(0, true)
  }

  /** MSHV_VTL_KICK_CPU: interrupt `cpus` (cancelling their run when `cancelRun`). */
  kickCpus(cpus: readonly number[], options: { cancelRun?: boolean; wait?: boolean } = {}): void {
    for (const cpu of cpus) this.checkCpu(cpu)
    const len = Math.ceil(this.cpuCount / 8)
    withMemory(this.sys, len, (mask) => {
      for (const cpu of cpus) mask.bytes[cpu >> 3] = (mask.bytes[cpu >> 3] ?? 0) | (1 << (cpu & 7))
      const flags =
        (options.wait === true ? MshvKickFlags.WAIT_FOR_CPUS : 0) |
        (options.cancelRun === false ? 0 : MshvKickFlags.CANCEL_CPU_RUN)
      this.ioctl(
        MshvRequest.MSHV_VTL_KICK_CPU,
        MshvKickCpus.encode({ len: BigInt(len), cpuMaskPtr: mask.address, flags: BigInt(flags) })
      )
    })
  }

  protected override onClose(): void {
    for (const mapping of [...this.mappings]) {
      this.mappings.delete(mapping)
      this.sys.munmap(mapping)
    }
  }
}

/** `mshv_vp_registers`; the kernel takes exactly one register per call. */
export function vpRegistersArg(count: number, regsPtr: bigint): Uint8Array {
  if (count !== 1) {
    throw new VtlError('E_FIELD_RANGE', `mshv_vp_registers.count must be 1, got ${count}`, {
      field: 'mshv_vp_registers.count',
    })
  }
  return MshvVpRegisters.encode({ count, regsPtr })
}

/** The `mshv_tdcall` bytes of a request, after the pass-through's input checks. */
export function encodeTdcallArg(input: TdcallRequest): Uint8Array {
  checkTdcall(input)
  return MshvTdcall.encode({
    rax: encodeTdcallRax(input.leaf),
    rcx: input.rcx,
    rdx: input.rdx,
    r8: input.r8,
    r9: input.r9,
  })
}

/** The registers the kernel wrote back: RAX is the TDX completion status. */
export function decodeTdcallArg(bytes: Uint8Array): TdcallOutput {
  const out = MshvTdcall.decode(bytes)
  return {
    rax: out.rax,
    rcx: out.rcx,
    rdx: out.rdx,
    r8: out.r8,
    r9: out.r9,
    r10: out.r10Out,
    r11: out.r11Out,
  }
}

function checkTdcall(input: TdcallRequest): void {
  if (!Number.isInteger(input.leaf) || input.leaf < 1 || input.leaf > 0xffff) {
    throw new VtlError(
      'E_INVALID_VALUE',
      input.leaf === 0
        ? 'TDG.VP.VMCALL (leaf 0) cannot go through the TDCALL pass-through'
        : `TDCALL leaf ${input.leaf} is not a u16`,
      { field: 'leaf' }
    )
  }
  for (const reg of ['r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const) {
    const value = input[reg]
    if (value !== undefined && value !== 0n) {
      const leaf = tdcallLeafName(input.leaf) ?? `leaf ${input.leaf}`
      throw new VtlError('E_INVALID_VALUE', `${leaf}: ${reg.toUpperCase()} must be 0 on input`, {
        field: reg,
      })
    }
  }
}
