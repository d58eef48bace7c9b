import {
  HV_MAP_GPA_PERMISSIONS_ALL,
  TdxGp,
  VsmEngine,
  assertInterrupt,
  classifyGpa,
  decodeVpExit,
  endOfInterrupt,
  prepareVpEntry,
  runVpAsync,
  vpBlocked,
  type AsyncVpBacking,
  type ExitOutcome,
  type GpaWidth,
  type GuestVtl,
  type L2VmIndex,
  type PageFacts,
  type TdxL2EnterGuestState,
  type VpBlockedReason,
  type VpExit,
  type VpPort,
  type VpRun,
} from '@vtl/core'
import { GpaSpace } from '@vtl/memory'
import {
  DEFAULT_HYPERCALL_PAGES,
  EXCEPTION_NAMES,
  MemoryContents,
  SoftwareTdxModule,
  afterReissue,
  exitResult,
  guestExit,
  pageFacts,
  resolveHypercallPages,
  ssDpl,
  traceGuestHypercall,
  type GuestAction,
  type GuestGprs,
  type HypercallPages,
  type HypercallTracer,
  type Scenario,
  type ScriptedGuestVp,
  type StepResult,
  type Trace,
  type UntrustedHypervisor,
  type VpEnterExit,
} from '@vtl/sim'
import { HwPlatform } from '../platform/hw-platform.js'
import type { VpEntry } from '../platform/vp-runner.js'
import { RunPageOffset, TdxVpContextOffset } from '../structs/run-page.js'
import { SimKernel } from './sim-kernel.js'

export interface HwTdOptions {
  vps: number
  /** VTL0 RAM in bytes from GPA 0 (4 KiB multiple). */
  memory: bigint
  gpaWidth?: 48 | 52
  /** MBEC at the hardware level for VTL0 (default true). */
  mbecCapable?: boolean
  /** VPs running in VTL0 at creation (default all). */
  startedVps?: readonly number[]
  /** The `/dev/mshv_hvcall` allow list (default HwPlatform's: OpenHCL's for TDX). */
  allowedHypercalls?: readonly number[]
  /** Where guest hypercalls are recorded, one `hypercall` event each, as on the simulator. */
  trace?: Trace
  /** The scripted guest's hypercall input and output pages (default GPA 0x0 and 0x1000). */
  hypercallPages?: HypercallPages
  /** The host behind `/dev/mshv_hvcall` (default: a new `UntrustedHypervisor`). */
  hypervisor?: UntrustedHypervisor
}

/** One step on the hardware path: the VTL the VP acted at and the result in report form. */
export interface HwStepOutcome {
  vtl: GuestVtl
  result: StepResult
}

/** Cancelled runs in a row before a step gives up (each re-prepares the entry). */
const MAX_CANCELLED_RUNS = 8

/** XMM0 in the run page: the TDX context, its FXSAVE area, then 160 bytes of FXSAVE header. */
const XMM0_IN_RUN_PAGE = RunPageOffset.context + TdxVpContextOffset.fxState + 160

/** The run page's GPRs as the scripted guest's VMCALL registers. */
function gprsOf(gps: bigint[]): GuestGprs {
  return {
    get rax() {
      return gps[TdxGp.RAX] ?? 0n
    },
    set rax(value) {
      gps[TdxGp.RAX] = value
    },
    get rcx() {
      return gps[TdxGp.RCX] ?? 0n
    },
    set rcx(value) {
      gps[TdxGp.RCX] = value
    },
    get rdx() {
      return gps[TdxGp.RDX] ?? 0n
    },
    set rdx(value) {
      gps[TdxGp.RDX] = value
    },
    get r8() {
      return gps[TdxGp.R8] ?? 0n
    },
    set r8(value) {
      gps[TdxGp.R8] = value
    },
  }
}

/**
 * A TD on the hardware path: core's `VsmEngine` bound to `HwPlatform`'s ports (hypercalls over
 * MSHV_HVCALL, VMCS writes as TDG.VP.WR through MSHV_VTL_TDCALL on each VP's pinned thread,
 * memory plans through `HwPlanSink`), all on a `SimKernel`, and a backing of core's VP loop
 * (`runVpAsync`): each entry is MSHV_RETURN_TO_LOWER_VTL through the VP's `VpRunner`, the
 * scripted guest (scenario-format.md) runs at the register level as the L2 behind TDG.VP.ENTER
 * on the run page's state, and the exit comes back through the run page.
 */
export class HwTd implements AsyncVpBacking {
  readonly kernel: SimKernel
  readonly hw: HwPlatform
  readonly engine: VsmEngine
  readonly space: GpaSpace
  readonly module: SoftwareTdxModule
  readonly contents: MemoryContents
  readonly memoryBytes: bigint
  readonly gpaWidth: GpaWidth
  readonly mbecCapable: boolean
  readonly hypercallPages: Readonly<HypercallPages>
  readonly trace: Trace | undefined
  private readonly tracer: HypercallTracer | undefined
  /** Exceptions the engine injected, per VP, since the step started (cleared by each step). */
  private readonly injected = new Map<number, number>()
  private readonly guests = new Map<number, ScriptedGuestVp>()
  /** Every TDG.VP.ENTER the guest saw: VP, L2 VM and the RIP the run page carried. */
  readonly entries: { vp: number; vm: L2VmIndex; rip: bigint }[] = []

  private constructor(parts: {
    kernel: SimKernel
    hw: HwPlatform
    space: GpaSpace
    contents: MemoryContents
    options: HwTdOptions
  }) {
    const { kernel, hw, space, options } = parts
    this.kernel = kernel
    this.hw = hw
    this.space = space
    this.module = kernel.module
    this.contents = parts.contents
    this.memoryBytes = options.memory
    this.gpaWidth = options.gpaWidth ?? 48
    this.mbecCapable = options.mbecCapable ?? true
    this.hypercallPages = options.hypercallPages ?? DEFAULT_HYPERCALL_PAGES
    this.trace = options.trace
    // No simulated clock on this path: events carry simCycles 0 and durCycles 0.
    this.tracer =
      options.trace === undefined
        ? undefined
        : { trace: options.trace, exitCycles: 0, now: () => 0 }
    const vp: VpPort = {
      writeVtlRegisters: (index, vtl, registers) => hw.vp.writeVtlRegisters(index, vtl, registers),
      wakeVp: (index) => {
        hw.vp.wakeVp(index)
      },
      injectException: (index, vtl, exception) => {
        this.injected.set(index, exception.vector)
        hw.vp.injectException(index, vtl, exception)
      },
    }
    this.engine = new VsmEngine({
      vpCount: options.vps,
      ports: {
        hypervisor: hw.hypervisor,
        vp,
        protection: space,
        guestMemory: {
          read: (gpa, length) => this.readGuest(gpa, length),
          write: (gpa, bytes) => this.writeGuest(gpa, bytes),
        },
      },
    })
    const started = options.startedVps === undefined ? undefined : new Set(options.startedVps)
    for (const state of this.engine.vps) {
      state.vtls[0].apic.activity =
        started === undefined || started.has(state.index) ? 'running' : 'wait-for-sipi'
    }
    kernel.guest = (cpu, vmIndex, state) => {
      this.entries.push({ vp: cpu, vm: vmIndex, rip: state.rip })
      return this.guestExit(cpu, vmIndex, state)
    }
  }

  /**
   * A SimKernel whose module holds the VTL0 RAM exactly as the pure simulator's boot (accepted,
   * private, 1 GiB leaves where aligned, VTL0 FULL_ACCESS) plus one paravisor page per CPU for
   * the run pages after it; HwPlatform opened on it; the GPA space with `HwPlanSink`.
   */
  static async create(options: HwTdOptions): Promise<HwTd> {
    resolveHypercallPages(options.hypercallPages, options.memory)
    const pages = options.memory / 4096n
    const contents = new MemoryContents()
    const module = new SoftwareTdxModule({
      vps: options.vps,
      gpaWidth: options.gpaWidth ?? 48,
      ram: [
        { gpn: 0, pages },
        { gpn: pages, pages: BigInt(options.vps), level: 0 },
      ],
      ramLevel: 2,
      requireVirtualApicPage: false,
      onPagesZeroed: (gpn, count) => {
        contents.zero(gpn, count)
      },
    })
    const kernel = new SimKernel({
      module,
      vps: options.vps,
      runPageGpn: pages,
      ...(options.hypervisor === undefined ? {} : { hypervisor: options.hypervisor }),
    })
    const hw = await HwPlatform.open({
      sys: kernel,
      cpuCount: options.vps,
      vtl0Memory: [{ startPfn: 0n, endPfn: pages }],
      ...(options.allowedHypercalls === undefined
        ? {}
        : { allowedHypercalls: options.allowedHypercalls }),
    })
    const space = new GpaSpace({
      gpaWidth: options.gpaWidth ?? 48,
      ram: [{ start: 0n, end: options.memory }],
      sink: hw.planSink,
    })
    space.mark(
      { start: 0n, end: options.memory },
      { accepted: true, shared: false, vtl0: HV_MAP_GPA_PERMISSIONS_ALL, vtl1: null }
    )
    return new HwTd({ kernel, hw, space, contents, options })
  }

  static fromScenario(
    scenario: Scenario,
    options: Pick<HwTdOptions, 'allowedHypercalls' | 'trace' | 'hypervisor'> = {}
  ): Promise<HwTd> {
    const { partition } = scenario
    return HwTd.create({
      ...options,
      vps: partition.vps,
      memory: partition.memory,
      gpaWidth: partition.gpaWidth,
      mbecCapable: partition.mbecCapable,
      ...(partition.startedVps === undefined ? {} : { startedVps: partition.startedVps }),
      ...(partition.hypercallPages === undefined
        ? {}
        : { hypercallPages: partition.hypercallPages }),
    })
  }

  private guest(vp: number): ScriptedGuestVp {
    let guest = this.guests.get(vp)
    if (guest === undefined) {
      guest = {
        action: undefined,
        readValue: undefined,
        xmm: Array.from({ length: 12 }, () => 0n),
        blocked: undefined,
        issued: undefined,
      }
      this.guests.set(vp, guest)
    }
    return guest
  }

  /**
   * One guest step through core's loop, as on the simulator: handle the VP's wakes, reissue a
   * hypercall the engine told it to retry (RIP still on its VMCALL; while it is still told to
   * retry the step reports `error: VpBlocked` and does nothing else), then enter its active VTL
   * through the VpRunner (RETURN_TO_LOWER_VTL), let the guest perform `action`, handle the exit,
   * and report `activeVtl` after the next entry's preparation. An armed fault is not modelled on
   * this path (the result says so).
   */
  async step(vp: number, action: GuestAction): Promise<HwStepOutcome> {
    if (action.kind === 'fault') {
      const vtl = this.engine.vp(vp).exitVtl
      return { vtl, result: { unsupported: 'fault', activeVtl: vtl } }
    }
    const guest = this.guest(vp)
    let resumed: string | undefined
    const blocked = guest.blocked
    if (blocked !== undefined) {
      const retry = await this.run(vp, undefined)
      const next = afterReissue(blocked, retry.exit)
      guest.blocked = next.blocked
      resumed = next.resumed
      if (guest.blocked !== undefined) {
        return { vtl: retry.vtl, result: { error: 'VpBlocked', activeVtl: retry.activeVtl } }
      }
    }
    this.injected.delete(vp)
    const run = await this.run(vp, action)
    if (run.blocked !== undefined) {
      return { vtl: run.vtl, result: { error: run.blocked, activeVtl: run.vtl } }
    }
    // The engine holds the guest's registers between entries (RAX carries the result).
    const regs = this.engine.vp(vp).shared
    const result: StepResult =
      run.exit === undefined
        ? { cancelled: true }
        : exitResult(action, run.exit, { guest, regs, contents: this.contents }, guest.issued)
    if (resumed !== undefined) result.resumed = resumed
    const injected = this.injected.get(vp)
    this.injected.delete(vp)
    if (injected !== undefined && result.exception === undefined) {
      result.exception = EXCEPTION_NAMES[injected] ?? injected
    }
    result.activeVtl = run.activeVtl
    return { vtl: run.vtl, result }
  }

  /**
   * The VTL `vp` acts at next, its pending wakes handled first (as its next step would; that
   * step's own preparation then finds nothing left to do).
   */
  actingVtl(vp: number): GuestVtl {
    return prepareVpEntry(this.engine, this, vp)
  }

  /** Core's loop once on `vp` with the guest playing `action` (none: it reissues a blocked call). */
  private async run(vp: number, action: GuestAction | undefined): Promise<VpRun> {
    const guest = this.guest(vp)
    guest.action = action
    guest.readValue = undefined
    try {
      return await runVpAsync(this.engine, this, vp, {
        maxCancelled: MAX_CANCELLED_RUNS,
        afterExit: (exit, vtl) => {
          this.afterExit(vp, vtl, action, exit)
        },
      })
    } finally {
      guest.action = undefined
    }
  }

  /** Whether `vp`'s active VTL can run: undefined if it can, else the step's `error`. */
  runnable(vp: number): VpBlockedReason | undefined {
    if (this.guests.get(vp)?.blocked !== undefined) return 'VpBlocked'
    return vpBlocked(this.engine, vp)
  }

  /** The guest-hypercall trace and the `interrupt`/`eoi` actions, right after the exit switch. */
  private afterExit(
    vp: number,
    vtl: GuestVtl,
    action: GuestAction | undefined,
    exit: ExitOutcome
  ): void {
    if (exit.kind === 'vmcall' && this.tracer !== undefined) {
      traceGuestHypercall(this.tracer, vp, vtl, exit.control, exit.outcome)
    } else if (action?.kind === 'interrupt') {
      assertInterrupt(this.engine, vp, action.vtl, action.vector)
    } else if (action?.kind === 'eoi') {
      endOfInterrupt(this.engine, vp, vtl)
    }
  }

  // ---- AsyncVpBacking ----

  async enter(vp: number, vtl: GuestVtl): Promise<VpExit | undefined> {
    const runner = await this.hw.runner(vp)
    const outcome = await runner.run(this.entryFor(vp, vtl))
    if (outcome.kind === 'cancelled') return undefined
    if (outcome.kind === 'vmcs-write-failed') {
      // The queued VMCS write failed and was rolled back: nothing ran (its TDX status).
      return decodeVpExit({ rax: outcome.status, rcx: 0n, r8: 0n, r11: 0n })
    }
    this.takeExit(vp, vtl, outcome.guestState)
    return decodeVpExit(outcome.exitInfo)
  }

  /** XMM0–5 from the run page's FXSAVE area, where the kernel saved the L2's. */
  xmm(vp: number): readonly bigint[] {
    const view = this.xmmView(vp)
    return Array.from({ length: 12 }, (_, i) => view.getBigUint64(i * 8, true))
  }

  private xmmView(vp: number): DataView {
    const page = this.kernel.runPage(vp)
    return new DataView(page.buffer, page.byteOffset + XMM0_IN_RUN_PAGE, 6 * 16)
  }

  readGuest(gpa: bigint, length: number): Uint8Array | undefined {
    const at = this.ram(gpa, length)
    return at === undefined ? undefined : this.contents.readBytes(at, length)
  }

  writeGuest(gpa: bigint, bytes: Uint8Array): boolean {
    const at = this.ram(gpa, bytes.length)
    if (at === undefined) return false
    this.contents.writeBytes(at, bytes)
    return true
  }

  pageFacts(gpn: bigint): PageFacts {
    return pageFacts(this, gpn)
  }

  private ram(gpa: bigint, length: number): bigint | undefined {
    const { canonical } = classifyGpa(gpa, this.gpaWidth)
    return canonical + BigInt(length) <= this.memoryBytes ? canonical : undefined
  }

  /**
   * The engine's bank is the source of truth (core's vsm README): its private RIP/RSP/RFLAGS go
   * to the platform's bank for `vtl`, and the shared GPRs and CR2 into the entry, so that they
   * reach the run page.
   */
  private entryFor(vp: number, vtl: GuestVtl): VpEntry {
    const state = this.engine.vp(vp)
    const regs = state.vtls[vtl].registers
    const bank = this.hw.vpState(vp).banks[vtl]
    bank.rip = regs.rip
    bank.rsp = regs.rsp
    bank.rflags = regs.rflags
    const g = state.shared
    const gprs = [g.rax, g.rcx, g.rdx, g.rbx, 0n, g.rbp, g.rsi, g.rdi]
    gprs.push(g.r8, g.r9, g.r10, g.r11, g.r12, g.r13, g.r14, g.r15)
    return { vtl, gprs, cr2: g.cr2 }
  }

  /** What the run page holds after the exit goes back into the engine's bank. */
  private takeExit(vp: number, vtl: GuestVtl, guest: TdxL2EnterGuestState): void {
    const state = this.engine.vp(vp)
    const regs = state.vtls[vtl].registers
    regs.rip = guest.rip
    regs.rflags = guest.rflags
    regs.rsp = guest.gps[TdxGp.RSP] ?? regs.rsp
    const g = state.shared
    const gp = (index: number): bigint => guest.gps[index] ?? 0n
    g.rax = gp(TdxGp.RAX)
    g.rcx = gp(TdxGp.RCX)
    g.rdx = gp(TdxGp.RDX)
    g.rbx = gp(TdxGp.RBX)
    g.rbp = gp(TdxGp.RBP)
    g.rsi = gp(TdxGp.RSI)
    g.rdi = gp(TdxGp.RDI)
    g.r8 = gp(TdxGp.R8)
    g.r9 = gp(TdxGp.R9)
    g.r10 = gp(TdxGp.R10)
    g.r11 = gp(TdxGp.R11)
    g.r12 = gp(TdxGp.R12)
    g.r13 = gp(TdxGp.R13)
    g.r14 = gp(TdxGp.R14)
    g.r15 = gp(TdxGp.R15)
  }

  async close(): Promise<void> {
    await this.hw.close()
  }

  /** The L2 behind TDG.VP.ENTER: the scripted guest on the run page's registers. */
  private guestExit(vp: number, vmIndex: L2VmIndex, state: { gps: bigint[] }): VpEnterExit {
    const vtl = (vmIndex - 1) as GuestVtl
    const cpl = ssDpl(this.engine.vp(vp).vtls[vtl].registers.ss.attributes)
    const guest = this.guest(vp)
    const exit = guestExit(this, vtl, guest, gprsOf(state.gps), cpl)
    // The L2's XMM registers as the kernel saves them, into the run page's FXSAVE area.
    const view = this.xmmView(vp)
    guest.xmm.forEach((value, i) => {
      view.setBigUint64(i * 8, value, true)
    })
    return exit
  }
}

/** Runs a scenario's steps on the hardware path, in order; the TD stays open for queries. */
export async function runScenarioOnHw(
  scenario: Scenario,
  options: Pick<HwTdOptions, 'allowedHypercalls' | 'trace'> = {}
): Promise<{ td: HwTd; steps: HwStepOutcome[] }> {
  const td = await HwTd.fromScenario(scenario, options)
  const steps: HwStepOutcome[] = []
  for (const step of scenario.steps) steps.push(await td.step(step.vp, step.action))
  return { td, steps }
}
