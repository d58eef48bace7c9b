import {
  TdxGp,
  decodeTdxVpEnterResult,
  encodeTdxVmFlags,
  VtlError,
  formatTdxStatus,
  isTdxSuccess,
  tdgVpRd,
  tdgVpWr,
  vmcsFieldCode,
  type GuestVtl,
  type TdxInvdTranslations,
  type TdxL2EnterGuestState,
  type TdxVpEnterResult,
} from '@vtl/core'
import { Cleanup } from '../devices/device-fd.js'
import type { VtlFd } from '../devices/vtl-fd.js'
import { RunPage, type TdxExitInfo } from '../structs/run-page.js'
import { SyscallError } from '../sys/syscall-error.js'
import { EventfdFlags, type PinnedThread, type Syscalls } from '../sys/syscalls.js'
import type { HwVpState } from './vp-state.js'

/** The per-entry inputs the engine owns: shared GPRs (the RSP slot comes from the VTL's bank). */
export interface VpEntry {
  vtl: GuestVtl
  /** 16 GPRs in `TdxGp` order; index 4 (RSP) is ignored. */
  gprs: readonly bigint[]
  cr2?: bigint
  invalidate?: TdxInvdTranslations
  /** TSC deadline to arm (kernel writes it with TDG.VP.WR); `undefined` leaves it as is. */
  tscDeadline?: bigint
}

export type VpRunOutcome =
  | {
      kind: 'exit'
      exitInfo: TdxExitInfo
      enter: TdxVpEnterResult
      guestState: TdxL2EnterGuestState
    }
  | { kind: 'cancelled' }
  /** A queued VMCS write failed; the ones before it were rolled back and nothing ran. */
  | { kind: 'vmcs-write-failed'; status: bigint; encoding: number; vtl: GuestVtl }

export interface VpRunnerOptions {
  /** Register an eventfd with SET_POLL_FILE so `wake()` cancels a run (default true). */
  pollFile?: boolean
}

/**
 * One VP's run loop: a thread pinned to the VP's CPU, that CPU's run page, and an eventfd that
 * cancels a run. Each `run` copies the VTL's private registers into the run page, applies queued
 * VMCS writes on the pinned thread, issues RETURN_TO_LOWER_VTL there and reads the exit back.
 */
export class VpRunner {
  readonly cpu: number
  readonly runPage: RunPage
  private readonly sys: Syscalls
  private readonly vtl: VtlFd
  private readonly state: HwVpState
  private readonly thread: PinnedThread
  private readonly eventfd: number | undefined
  private readonly release: Cleanup
  private closed = false

  private constructor(parts: {
    sys: Syscalls
    vtl: VtlFd
    state: HwVpState
    thread: PinnedThread
    runPage: RunPage
    eventfd: number | undefined
    release: Cleanup
  }) {
    this.sys = parts.sys
    this.vtl = parts.vtl
    this.state = parts.state
    this.cpu = parts.state.vp
    this.thread = parts.thread
    this.runPage = parts.runPage
    this.eventfd = parts.eventfd
    this.release = parts.release
  }

  /** Sets everything up or, on any failure, releases what was made and rethrows. */
  static async create(
    sys: Syscalls,
    vtl: VtlFd,
    state: HwVpState,
    options: VpRunnerOptions = {}
  ): Promise<VpRunner> {
    const cpu = state.vp
    vtl.checkCpu(cpu)
    const release = new Cleanup()
    try {
      const thread = await sys.spawnPinnedThread(cpu)
      if (typeof thread === 'number') {
        throw new SyscallError({ syscall: 'sched_setaffinity', errno: -thread, path: `cpu ${cpu}` })
      }
      release.add(() => thread.close())
      const mapping = vtl.mapPage(0, cpu)
      release.add(() => {
        vtl.unmap(mapping)
      })
      const runPage = new RunPage(mapping.bytes)
      let eventfd: number | undefined
      if (options.pollFile !== false) {
        const fd = sys.eventfd(0, EventfdFlags.CLOEXEC | EventfdFlags.NONBLOCK)
        if (fd < 0) throw new SyscallError({ syscall: 'eventfd', errno: -fd, path: 'eventfd' })
        release.add(() => sys.close(fd))
        vtl.setPollFile(cpu, fd)
        eventfd = fd
      }
      return new VpRunner({ sys, vtl, state, thread, runPage, eventfd, release })
    } catch (error) {
      await release.run()
      throw error
    }
  }

  /** Cancels a run in progress (or the next one): the poll eventfd, else KICK_CPU. */
  wake(): void {
    if (this.eventfd === undefined) {
      this.vtl.kickCpus([this.cpu], { cancelRun: true })
      return
    }
    const one = new Uint8Array(8)
    one[0] = 1
    const written = this.sys.write(this.eventfd, one)
    if (written < 0) {
      throw new SyscallError({ syscall: 'write', errno: -written, path: 'eventfd' })
    }
  }

  /**
   * TDG.VP.RD of one VMCS field of `vtl` (VMCS #1 for VTL0, #2 for VTL1) on this VP's thread. A
   * TDX failure throws `E_TDX_STATUS` with the status in the message.
   */
  async readVmcsField(vtl: GuestVtl, encoding: number): Promise<bigint> {
    const out = await this.vtl.tdcallOn(this.thread, tdgVpRd(vmcsFieldCode(vtl, encoding)))
    if (!isTdxSuccess(out.rax)) {
      throw new VtlError(
        'E_TDX_STATUS',
        `TDG.VP.RD of VMCS field 0x${encoding.toString(16)}: ${formatTdxStatus(out.rax)}`,
        {
          field: 'rax',
        }
      )
    }
    return out.r8
  }

  async run(entry: VpEntry): Promise<VpRunOutcome> {
    const failed = await this.applyPendingWrites()
    if (failed !== undefined) return failed
    const bank = this.state.banks[entry.vtl]
    const gps = entry.gprs.map((value, i) => (i === TdxGp.RSP ? bank.rsp : value))
    const page = this.runPage
    page.entryRcx = encodeTdxVmFlags({
      vmIndex: entry.vtl === 0 ? 1 : 2,
      invdTranslations: entry.invalidate ?? 0,
    })
    page.setL2EnterGuestState({ gps, rflags: bank.rflags, rip: bank.rip, ssp: 0n, rvi: 0, svi: 0 })
    page.setVpState({
      msrKernelGsBase: bank.kernelGsBase,
      msrStar: bank.star,
      msrLstar: bank.lstar,
      msrSfmask: bank.sfmask,
      msrTscAux: bank.tscAux,
      ...(entry.cr2 === undefined ? {} : { cr2: entry.cr2 }),
    })
    if (entry.tscDeadline !== undefined) page.setTscDeadline(entry.tscDeadline)
    const outcome = await this.vtl.returnToLowerVtl(this.thread, page)
    if (outcome === 'cancelled') return { kind: 'cancelled' }
    const guestState = page.l2EnterGuestState()
    const vpState = page.vpState()
    bank.rip = guestState.rip
    bank.rflags = guestState.rflags
    bank.rsp = guestState.gps[TdxGp.RSP] ?? bank.rsp
    bank.kernelGsBase = vpState.msrKernelGsBase
    const exitInfo = page.exitInfo()
    return { kind: 'exit', exitInfo, enter: decodeTdxVpEnterResult(exitInfo.rax), guestState }
  }

  /**
   * Runs until `next` returns `undefined`: each outcome is handed to `next`, which answers with
   * the next entry (after handling the exit in the engine). Resolves with the last outcome.
   */
  async loop(
    first: VpEntry,
    next: (outcome: VpRunOutcome) => VpEntry | undefined | Promise<VpEntry | undefined>
  ): Promise<VpRunOutcome> {
    let entry: VpEntry | undefined = first
    let outcome: VpRunOutcome = { kind: 'cancelled' }
    while (entry !== undefined && !this.closed) {
      outcome = await this.run(entry)
      entry = await next(outcome)
    }
    return outcome
  }

  /**
   * Applies the queued TDG.VP.WRs on the pinned thread. TDG.VP.WR hands back the old value in
   * R8, so a failure restores the fields already written, newest first: all or nothing.
   */
  private async applyPendingWrites(): Promise<VpRunOutcome | undefined> {
    const writes = this.state.take()
    const applied: { request: (typeof writes)[number]['request']; old: bigint }[] = []
    for (const write of writes) {
      const out = await this.vtl.tdcallOn(this.thread, write.request)
      if (!isTdxSuccess(out.rax)) {
        for (const done of applied.reverse()) {
          await this.vtl.tdcallOn(this.thread, tdgVpWr(done.request.rdx, done.old, done.request.r9))
        }
        return {
          kind: 'vmcs-write-failed',
          status: out.rax,
          encoding: write.encoding,
          vtl: write.vtl,
        }
      }
      applied.push({ request: write.request, old: out.r8 })
    }
    return undefined
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.release.run()
  }
}
