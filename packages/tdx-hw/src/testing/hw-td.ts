import {
  HV_MAP_GPA_PERMISSIONS_ALL,
  TdxGp,
  VmxExitBasic,
  VsmEngine,
  assertInterrupt,
  endOfInterrupt,
  exitToParavisor,
  prepareEntry,
  tdxStatusCode,
  tdxStatusName,
  type GuestVtl,
  type L2VmIndex,
  type TdxL2EnterGuestState,
  type VpPort,
} from '@vtl/core'
import { GpaSpace } from '@vtl/memory'
import {
  EXCEPTION_NAMES,
  MemoryContents,
  SoftwareTdxModule,
  findAccessFault,
  guestExit,
  handleInstruction,
  handleMemoryFault,
  performHypercall,
  type GuestAction,
  type HypercallTracer,
  type Scenario,
  type StepResult,
  type Trace,
  type VpEnterExit,
} from '@vtl/sim'
import { HwPlatform } from '../platform/hw-platform.js'
import type { VpEntry, VpRunOutcome } from '../platform/vp-runner.js'
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
}

/** One step on the hardware path: the VTL the VP acted at and the result in report form. */
export interface HwStepOutcome {
  vtl: GuestVtl
  result: StepResult
}

/** Cancelled runs in a row before a step gives up (each re-prepares the entry). */
const MAX_CANCELLED_RUNS = 8

const hex = (value: bigint): string => `0x${value.toString(16)}`

/**
 * A TD on the hardware path: core's `VsmEngine` bound to `HwPlatform`'s ports (hypercalls over
 * MSHV_HVCALL, VMCS writes as TDG.VP.WR through MSHV_VTL_TDCALL on each VP's pinned thread,
 * memory plans through `HwPlanSink`), all on a `SimKernel`. Each step enters the guest with
 * MSHV_RETURN_TO_LOWER_VTL through the VP's `VpRunner`; the guest model (scenario-format.md) runs
 * as the L2 behind TDG.VP.ENTER and the exit comes back through the run page.
 */
export class HwTd {
  readonly kernel: SimKernel
  readonly hw: HwPlatform
  readonly engine: VsmEngine
  readonly space: GpaSpace
  readonly module: SoftwareTdxModule
  readonly contents: MemoryContents
  readonly memoryBytes: bigint
  readonly gpaWidth: 48 | 52
  readonly mbecCapable: boolean
  readonly trace: Trace | undefined
  private readonly tracer: HypercallTracer | undefined
  /** Exceptions the engine injected, per VP, since the step started (cleared by each step). */
  private readonly injected = new Map<number, number>()
  private readonly actions = new Map<number, GuestAction>()
  private readonly readValues = new Map<number, bigint>()
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
      ports: { hypervisor: hw.hypervisor, vp, protection: space },
    })
    const started = options.startedVps === undefined ? undefined : new Set(options.startedVps)
    for (const state of this.engine.vps) {
      state.vtls[0].apic.activity =
        started === undefined || started.has(state.index) ? 'running' : 'wait-for-sipi'
    }
    kernel.guest = (cpu, vmIndex, state) => {
      this.entries.push({ vp: cpu, vm: vmIndex, rip: state.rip })
      return this.guestExit(cpu, vmIndex)
    }
  }

  /**
   * A SimKernel whose module holds the VTL0 RAM exactly as the pure simulator's boot (accepted,
   * private, 1 GiB leaves where aligned, VTL0 FULL_ACCESS) plus one paravisor page per CPU for
   * the run pages after it; HwPlatform opened on it; the GPA space with `HwPlanSink`.
   */
  static async create(options: HwTdOptions): Promise<HwTd> {
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
    const kernel = new SimKernel({ module, vps: options.vps, runPageGpn: pages })
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
    options: Pick<HwTdOptions, 'allowedHypercalls' | 'trace'> = {}
  ): Promise<HwTd> {
    const { partition } = scenario
    return HwTd.create({
      ...options,
      vps: partition.vps,
      memory: partition.memory,
      gpaWidth: partition.gpaWidth,
      mbecCapable: partition.mbecCapable,
      ...(partition.startedVps === undefined ? {} : { startedVps: partition.startedVps }),
    })
  }

  /** The paravisor's side before an entry: wakes, interrupts, the VTL to run (§6.4). */
  enter(vp: number): GuestVtl {
    return prepareEntry(this.engine, vp).vtl
  }

  /** `undefined` if the VP's active VTL can run, else the report's error. */
  runnable(vp: number): 'VpNotRunning' | 'VpBlocked' | undefined {
    const state = this.engine.vp(vp)
    const activity = state.vtls[state.exitVtl].apic.activity
    if (activity === 'wait-for-sipi') return 'VpNotRunning'
    if (activity === 'halted') return 'VpBlocked'
    return undefined
  }

  /**
   * One guest step: handle the VP's wakes, enter its active VTL through the VpRunner
   * (RETURN_TO_LOWER_VTL), let the guest perform `action`, handle the exit in the engine, and
   * report `activeVtl` after the next entry's preparation. A blocked (retried) hypercall or an
   * armed fault is not modelled on this path (the result says so).
   */
  async step(vp: number, action: GuestAction): Promise<HwStepOutcome> {
    if (action.kind === 'fault') {
      const vtl = this.engine.vp(vp).exitVtl
      return { vtl, result: { unsupported: 'fault', activeVtl: vtl } }
    }
    const runner = await this.hw.runner(vp)
    this.injected.delete(vp)
    this.readValues.delete(vp)
    let vtl: GuestVtl
    let outcome: VpRunOutcome
    let attempts = 0
    do {
      // A wake (of this VP too: EnableVpVtl on itself) cancels the next run through the poll
      // eventfd; like OpenHCL's loop, prepare the entry again and re-enter.
      vtl = this.enter(vp)
      const error = this.runnable(vp)
      if (error !== undefined) return { vtl, result: { error, activeVtl: vtl } }
      this.actions.set(vp, action)
      outcome = await runner.run(this.entryFor(vp, vtl))
      this.actions.delete(vp)
    } while (outcome.kind === 'cancelled' && ++attempts < MAX_CANCELLED_RUNS)
    if (outcome.kind === 'exit') this.takeExit(vp, vtl, outcome.guestState)
    let result: StepResult
    if (outcome.kind === 'cancelled') {
      result = { cancelled: true }
    } else if (outcome.kind === 'vmcs-write-failed') {
      result = { vmcsWriteFailed: hex(outcome.status), encoding: outcome.encoding }
    } else if (outcome.exitInfo.rax >> 32n !== 0n) {
      const status = tdxStatusCode(outcome.exitInfo.rax)
      result = { enterStatus: tdxStatusName(status) ?? hex(BigInt(status)) }
    } else {
      const reason = Number(outcome.exitInfo.rax & 0xffffn)
      result = this.handleExit(vp, vtl, action, reason, outcome.exitInfo.r8)
    }
    exitToParavisor(this.engine, vp)
    const after = this.enter(vp)
    const injected = this.injected.get(vp)
    this.injected.delete(vp)
    if (injected !== undefined && result.exception === undefined) {
      result.exception = EXCEPTION_NAMES[injected] ?? injected
    }
    result.activeVtl = after
    return { vtl, result }
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

  /** The L2 behind TDG.VP.ENTER (the simulator's guest, on this path's memory). */
  private guestExit(vp: number, vmIndex: L2VmIndex): VpEnterExit {
    const read = { readValue: undefined as bigint | undefined }
    const exit = guestExit(this, (vmIndex - 1) as GuestVtl, this.actions.get(vp), read)
    if (read.readValue !== undefined) this.readValues.set(vp, read.readValue)
    return exit
  }

  private handleExit(
    vp: number,
    vtl: GuestVtl,
    action: GuestAction,
    reason: number,
    exitGpa: bigint
  ): StepResult {
    switch (action.kind) {
      case 'hypercall':
      case 'vtlCall':
      case 'vtlReturn':
      case 'setRegister':
      case 'getRegister':
        if (reason !== VmxExitBasic.VMCALL) return { unexpectedExit: reason }
        // No `waiting` hook: a call that must wait is not retried on this path (`blocked: true`).
        return performHypercall(this.engine, vp, action, { tracer: this.tracer })
      case 'read':
      case 'write':
      case 'execute':
        if (reason !== VmxExitBasic.EPT_VIOLATION) {
          return action.kind === 'read'
            ? { ok: true, value: hex(this.readValues.get(vp) ?? 0n) }
            : { ok: true }
        }
        return handleMemoryFault(
          this.engine,
          vp,
          vtl,
          action.kind,
          findAccessFault(this, vtl, action)?.verdict,
          exitGpa,
          this.gpaWidth
        )
      case 'interrupt':
        assertInterrupt(this.engine, vp, action.vtl, action.vector)
        return {}
      case 'eoi':
        endOfInterrupt(this.engine, vp, vtl)
        return {}
      case 'io':
      case 'writeCr':
      case 'msr':
        return handleInstruction(this.engine, vp, action).result
      case 'run':
      case 'fault':
        return {}
    }
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
