import {
  HV_MAP_GPA_PERMISSIONS_ALL,
  HvStatus,
  TdcallLeaf,
  VsmEngine,
  VtlError,
  exceptionInjectionWrites,
  decodeHypercallResult,
  hvStatusName,
  hypercallName,
  isTdxSuccess,
  tdcallLeafName,
  tdgVpEnter,
  tdxStatusCode,
  tdxStatusName,
  vmcsFieldBits,
  vmcsFieldCode,
  type GuestVtl,
  type HypervisorCallResult,
  type HypervisorPort,
  type InjectedException,
  type L2VmIndex,
  type SharedVsmState,
  type TdcallInput,
  type TdcallLeafName,
  type TdcallOutput,
  type VpPort,
  type VtlRegisterWrite,
  forEachVmcsWrite,
  VMCS_WRITE_FIELD_COUNT,
  prepareVpEntry,
  vmcsWritePlan,
  vmcsWrites,
} from '@vtl/core'
import { GpaSpace } from '@vtl/memory'
import { CostModel } from '../cost/cost-model.js'
import { SimClock } from '../cost/sim-clock.js'
import { FaultInjector } from '../faults/fault-injector.js'
import { MemoryContents } from '../guest/memory-contents.js'
import {
  UntrustedHypervisor,
  type UntrustedHypervisorJson,
} from '../hypervisor/untrusted-hypervisor.js'
import { tdxModulePlanSink } from '../tdx-module/plan-sink.js'
import { SoftwareTdxModule, type SoftwareTdxModuleJson } from '../tdx-module/software-tdx-module.js'
import type { PreparedVpWr, VpEnterExit } from '../tdx-module/types.js'
import { Trace, type TraceJson, type TraceStats } from '../trace/trace.js'
import { guestExit, ssDpl, type ScriptedGuestVp } from '../guest/guest-exit.js'
import { resolveHypercallPages, type HypercallPages } from '../guest/hypercall-pages.js'
import { STEP_SCRATCH, StepScratch, guestStep, type StepOutcome } from '../guest/perform.js'
import type { GuestAction } from '../scenario/types.js'
import type { L2Cpu } from './l2-cpu.js'
import { SimTdBacking } from './sim-td-backing.js'

export interface SimTdOptions {
  /** 1..1024 VPs. */
  vps: number
  /** Guest RAM in bytes from GPA 0 (4 KiB multiple). */
  memory: bigint
  gpaWidth?: 48 | 52
  /** MBEC at the hardware level for VTL0 (default true). */
  mbecCapable?: boolean
  /** VPs running in VTL0 at creation (default all). */
  startedVps?: readonly number[]
  /** Scheduler and fault seed (default 0). */
  seed?: number
  costModel?: CostModel
  /** A fault injector (default: a new one seeded with `seed`). */
  faults?: FaultInjector
  /** Events kept in the trace ring (default 100 000; counts are exact whatever the limit). */
  traceLimit?: number
  /**
   * Record every event in the trace (default true). Off, only the report counters run: what
   * benchmarks and long random runs want.
   */
  traceEvents?: boolean
  /** Cross-VP engine state, e.g. SharedArrayBuffer-backed for a parallel host. */
  shared?: SharedVsmState
  /** The partition's `access_vsm` privilege (default true; false makes VSM NotPlatformSupported). */
  accessVsmPrivilege?: boolean
  /** Saved platform parts to start from instead of a fresh boot (see snapshot/). */
  restore?: PlatformRestore
  /**
   * Where the scripted guest puts a memory hypercall's input page and asks for the output
   * (default GPA 0x0 and 0x1000): 4 KiB-aligned pages of guest RAM, distinct.
   */
  hypercallPages?: HypercallPages
}

/** The platform parts a snapshot carries in their own JSON forms. */
export interface PlatformRestore {
  module: SoftwareTdxModuleJson
  hypervisor: UntrustedHypervisorJson
  trace: TraceJson
  clock: ReturnType<SimClock['toJSON']>
  stats: TraceStats
}

const LEAVES = 32
/** Leaf names by number (a plain array lookup on the TDCALL path). */
const leafNames: (TdcallLeafName | undefined)[] = Array.from({ length: LEAVES }, (_, leaf) =>
  tdcallLeafName(leaf)
)

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1)
}

function sortedRecord(counts: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...counts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)))
}

/** The guest-side state of a VP that the TD keeps between steps (created on first use). */
export interface GuestVpState extends ScriptedGuestVp {
  /** The last exception the paravisor injected (vector), cleared when a step reads it. */
  exception: number | undefined
}

const TDG_VP_WR = TdcallLeaf['TDG.VP.WR']
/** Per VMX encoding: [field id on VMCS #1, field id on VMCS #2, whole-field mask]. */
const vpWrFields = new Map<number, [bigint, bigint, bigint]>()

function vpWrField(encoding: number): [bigint, bigint, bigint] {
  let field = vpWrFields.get(encoding)
  if (field === undefined) {
    field = [
      vmcsFieldCode(0, encoding),
      vmcsFieldCode(1, encoding),
      (1n << BigInt(vmcsFieldBits(encoding))) - 1n,
    ]
    vpWrFields.set(encoding, field)
  }
  return field
}

/** TDG.VP.WR of one whole VMCS field (the mask covers the field: a wider one is refused). */
function vpWrInput(vtl: GuestVtl, encoding: number, value: bigint): TdcallInput {
  const field = vpWrField(encoding)
  return { leaf: TDG_VP_WR, rcx: 0n, rdx: field[vtl], r8: value, r9: field[2] }
}
const MAX_VPS = 1024

/**
 * A software TD: the software TDX module (behind the fault injector), the untrusted hypervisor,
 * the GPA space with the module as its plan sink, guest memory contents, and core's VSM engine
 * with its ports bound to them. Cross-VP state lives only in the engine's `SharedVsmState` and in
 * the module/GpaSpace, so a parallel host can run VPs on worker threads over a shared-memory
 * `SharedVsmState`. Creation does no per-page work and only O(1) work per VP beyond the engine's
 * own VP objects.
 */
export class SimTd {
  readonly vpCount: number
  readonly memoryBytes: bigint
  readonly gpaWidth: 48 | 52
  readonly mbecCapable: boolean
  readonly seed: number
  /** The scripted guest's hypercall input and output pages. */
  readonly hypercallPages: Readonly<HypercallPages>
  /** The module (queries, snapshots); the paravisor's TDCALLs reach it through `tdx`. */
  readonly module: SoftwareTdxModule
  /** The TDCALL port every paravisor TDCALL goes through: the fault injector, then the module. */
  readonly tdx: {
    readonly tdcall: (vp: number, input: TdcallInput) => TdcallOutput
    readonly vpWrStatus: (vp: number, field: PreparedVpWr, value: bigint) => bigint
  }
  private readonly tdxCall: (vp: number, input: TdcallInput) => TdcallOutput
  readonly hypervisor: UntrustedHypervisor
  readonly faults: FaultInjector
  readonly space: GpaSpace
  readonly engine: VsmEngine
  /** The TD as a backing of core's VP loop (`runVp`). */
  readonly backing: SimTdBacking
  readonly trace: Trace
  readonly costs: CostModel
  readonly clock: SimClock
  contents = new MemoryContents()
  /** The L2s' CPU when guests run real code; undefined: the scripted guest (see `L2Cpu`). */
  l2Cpu: L2Cpu | undefined
  /** Per VP, created on first use (a sparse array: nothing per VP up front). */
  private readonly guestVps: (GuestVpState | undefined)[] = []
  /** The VTL each VP last ran (VP-owned): a different next entry is a VTL switch. */
  readonly enteredVtl: Uint8Array
  /** VPs kicked by a cross-VP operation and not stepped since. */
  private readonly woken = new Set<number>()
  /** The step path's reused objects (see `StepScratch`); internal. */
  readonly [STEP_SCRATCH] = new StepScratch()
  /** The VP on whose thread the current operation runs (TDCALL and hypercall attribution). */
  private currentVp = 0
  private pendingVp = -1
  private pendingCycles = 0
  /** Cycle costs of the events on the step path, from `costs` (its table is fixed). */
  readonly cost: {
    l2Exit: number
    hypercallHandler: number
    vtlSwitch: number
    interrupt: number
    hypercallForward: number
  }
  /** The VP whose step ran last and the wake count then (see `settled`). */
  private settledVp = -1
  private settledWakes = -1
  private wakes = 0
  /** Whether events go to `trace` (the counters behind `stats()` always run). */
  traceEvents: boolean
  private switches = 0
  private readonly tdcallCounts = new Map<string, number>()
  private readonly leafCounts = new Float64Array(LEAVES)
  private readonly leafCost: number[]
  private readonly hostCounts = new Map<string, number>()
  /**
   * Per VTL, per `forEachVmcsWrite` field index: that field's TDG.VP.WR operands, prepared by the
   * module on first use (so no call looks its field up again).
   */
  private readonly wrFields: [(PreparedVpWr | undefined)[], (PreparedVpWr | undefined)[]] = [
    new Array<PreparedVpWr | undefined>(VMCS_WRITE_FIELD_COUNT).fill(undefined),
    new Array<PreparedVpWr | undefined>(VMCS_WRITE_FIELD_COUNT).fill(undefined),
  ]
  /** The register write in progress: its VP and VTL, and how many TDG.VP.WRs failed (0 or 1). */
  private wrVp = 0
  private wrVtl: GuestVtl = 0
  private wrFailures = 0
  /** TDG.VP.ENTER inputs for VM #1 and #2 (immutable, built once). */
  private readonly enterInputs: readonly [TdcallInput, TdcallInput] = [
    tdgVpEnter({ invdTranslations: 0, vmIndex: 1 }, 0n),
    tdgVpEnter({ invdTranslations: 0, vmIndex: 2 }, 0n),
  ]

  constructor(options: SimTdOptions) {
    if (!Number.isInteger(options.vps) || options.vps < 1 || options.vps > MAX_VPS) {
      throw new VtlError('E_FIELD_RANGE', `vps must be 1..${MAX_VPS}, got ${options.vps}`, {
        field: 'vps',
      })
    }
    if (options.memory <= 0n || options.memory % 4096n !== 0n) {
      throw new VtlError('E_UNALIGNED', 'memory must be a non-zero multiple of 4 KiB', {
        field: 'memory',
      })
    }
    this.hypercallPages = resolveHypercallPages(options.hypercallPages, options.memory)
    this.vpCount = options.vps
    this.memoryBytes = options.memory
    this.gpaWidth = options.gpaWidth ?? 48
    this.mbecCapable = options.mbecCapable ?? true
    this.seed = options.seed ?? 0
    this.enteredVtl = new Uint8Array(options.vps)
    this.costs = options.costModel ?? new CostModel()
    this.leafCost = Array.from({ length: LEAVES }, (_, leaf) => this.costs.tdcall(leafNames[leaf]))
    this.cost = {
      l2Exit: this.costs.cost({ kind: 'l2-exit' }),
      hypercallHandler: this.costs.cost({ kind: 'hypercall-handler' }),
      vtlSwitch: this.costs.cost({ kind: 'vtl-switch' }),
      interrupt: this.costs.cost({ kind: 'interrupt' }),
      hypercallForward: this.costs.cost({ kind: 'hypercall-forward' }),
    }
    const restore = options.restore
    this.clock =
      restore === undefined ? new SimClock(options.vps) : SimClock.fromJSON(restore.clock)
    this.trace =
      restore === undefined
        ? new Trace({ limit: options.traceLimit ?? 100_000, wallClock: () => 0 })
        : Trace.fromJSON(restore.trace, { wallClock: () => 0 })
    this.traceEvents = options.traceEvents ?? true
    if (restore !== undefined) this.loadStats(restore.stats)
    this.faults = options.faults ?? new FaultInjector(this.seed)
    this.faults.onFire = (fault) => {
      // An injected failure never reaches the module or host: count it as the call it replaced.
      if (fault.kind !== 'tdcall') return
      bump(this.tdcallCounts, fault.at)
      if (!this.traceEvents) return
      const vp = fault.vp ?? this.currentVp
      this.trace.record({
        kind: 'fault',
        vp,
        vtl: 2,
        simCycles: this.clock.now(vp),
        name: fault.at,
        args: { status: fault.status, injected: true },
      })
    }

    // Boot state (§5.2): RAM accepted and private, VTL0 FULL_ACCESS, VTL1 none; 1 GiB leaves
    // where aligned so the VTL1 sweep of a 1 TiB guest is 1024 ATTR.WRs.
    const callbacks = {
      // The L2 behind TDG.VP.ENTER: the real-code CPU, or the scripted guest playing the VP's
      // pending action.
      onEnter: (
        vp: number,
        vmIndex: L2VmIndex,
        _flags: unknown,
        _gpa: bigint,
        event?: bigint
      ): VpEnterExit => {
        const vtl = (vmIndex - 1) as GuestVtl
        if (this.l2Cpu !== undefined) return this.l2Cpu.enter(vp, vtl, event)
        const state = this.engine.vp(vp)
        const cpl = ssDpl(state.vtls[vtl].registers.ss.attributes)
        return guestExit(this, vtl, this.guestVp(vp), state.shared, cpl)
      },
      onPagesZeroed: (gpn: number, pages: number): void => {
        this.contents.zero(gpn, pages)
      },
      onTdcall: (vp: number, input: TdcallInput, output: TdcallOutput): void => {
        this.observeTdcall(vp, input.leaf, output.rax)
      },
      onTdcallStatus: (vp: number, leaf: number, rax: bigint): void => {
        this.observeTdcall(vp, leaf, rax)
      },
    }
    this.module =
      restore === undefined
        ? new SoftwareTdxModule({
            vps: options.vps,
            gpaWidth: this.gpaWidth,
            ram: [{ gpn: 0, pages: options.memory / 4096n }],
            ramLevel: 2,
            // The simulated L2s have no virtual-APIC page; interrupts are modelled by the engine.
            requireVirtualApicPage: false,
            ...callbacks,
          })
        : SoftwareTdxModule.fromJSON(restore.module, callbacks)
    this.tdx = this.faults.wrapTdcall(this.module)
    this.tdxCall = this.tdx.tdcall
    this.hypervisor =
      restore === undefined
        ? new UntrustedHypervisor({ vps: options.vps })
        : UntrustedHypervisor.fromJSON(restore.hypervisor)

    this.space = new GpaSpace({
      gpaWidth: this.gpaWidth,
      ram: [{ start: 0n, end: options.memory }],
      // TDCALLs through the fault injector; MapGPA to the module's host model (no TDCALL).
      sink: tdxModulePlanSink(this.tdx, 0, (op) =>
        this.module.hostMapGpa(Number(op.gpn), Number(op.pages), op.shared)
      ),
    })
    if (restore === undefined) {
      this.space.mark(
        { start: 0n, end: options.memory },
        { accepted: true, shared: false, vtl0: HV_MAP_GPA_PERMISSIONS_ALL, vtl1: null }
      )
    }

    this.engine = new VsmEngine({
      vpCount: options.vps,
      ports: {
        hypervisor: this.hypervisorPort(),
        vp: this.vpPort(),
        protection: this.space,
        guestMemory: {
          read: (gpa, length) => this.backing.readGuest(gpa, length),
          write: (gpa, bytes) => this.backing.writeGuest(gpa, bytes),
        },
      },
      ...(options.shared === undefined ? {} : { shared: options.shared }),
      ...(options.accessVsmPrivilege === undefined
        ? {}
        : { accessVsmPrivilege: options.accessVsmPrivilege }),
    })
    this.backing = new SimTdBacking(this)
    // VPs in startedVps run VTL0; the others wait for StartVirtualProcessor (scenario-format.md).
    // The engine already set the once-only started flag for VP 0 alone (§13.7).
    const started = options.startedVps === undefined ? undefined : new Set(options.startedVps)
    for (const vp of this.engine.vps) {
      vp.vtls[0].apic.activity =
        started === undefined || started.has(vp.index) ? 'running' : 'wait-for-sipi'
    }
  }

  guestVp(vp: number): GuestVpState {
    let state = this.guestVps[vp]
    if (state === undefined) {
      state = {
        blocked: undefined,
        issued: undefined,
        exception: undefined,
        action: undefined,
        readValue: undefined,
        // Constants: one copy-on-write element store shared until the guest writes one.
        xmm: [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n],
      }
      this.guestVps[vp] = state
    }
    return state
  }

  /** Guest VP states that differ from the initial one (for snapshots). */
  guestVpEntries(): [number, GuestVpState][] {
    const out: [number, GuestVpState][] = []
    this.guestVps.forEach((s, vp) => {
      if (s !== undefined && (s.blocked !== undefined || s.exception !== undefined))
        out.push([vp, s])
    })
    return out
  }

  /**
   * Advances `vp`'s simulated clock by `cycles` and returns the time before. Without trace events
   * nobody reads the time inside a step, so the cycles are summed and added once (`flushClock`).
   */
  tick(vp: number, cycles: number): number {
    if (this.traceEvents) return this.tickNow(vp, cycles)
    if (vp === this.pendingVp) this.pendingCycles += cycles
    else this.tickOtherVp(vp, cycles)
    return 0
  }

  /** `tick` on a VP other than the pending one: the pending cycles go to the clock first. */
  private tickOtherVp(vp: number, cycles: number): void {
    this.flushClock()
    this.pendingVp = vp
    this.pendingCycles = cycles
  }

  /** `tick` with trace events on: the clock moves at once (kept apart: `tick` stays inlinable). */
  private tickNow(vp: number, cycles: number): number {
    const before = this.clock.now(vp)
    this.clock.add(vp, cycles)
    return before
  }

  /** Adds the cycles `tick` deferred to the clock (called after each step and before a save). */
  flushClock(): void {
    if (this.pendingVp >= 0 && this.pendingCycles > 0) {
      this.clock.add(this.pendingVp, this.pendingCycles)
    }
    this.pendingVp = -1
    this.pendingCycles = 0
  }

  /**
   * True when `vp` ran the last step and no wake happened since: its post-step entry already
   * handled everything pending, so the next step may skip the pre-step one.
   */
  private settled(vp: number): boolean {
    return this.settledVp === vp && this.settledWakes === this.wakes
  }

  private settle(vp: number): void {
    this.settledVp = vp
    this.settledWakes = this.wakes
  }

  /**
   * One guest step on `vp` through core's VP loop (see `performStep`). Stepping a VP handles its
   * wakes, so it is no longer among `wokenVps()`.
   */
  step(vp: number, action: GuestAction): StepOutcome {
    this.currentVp = vp
    const { outcome, settled } = guestStep(this, vp, action, this.settled(vp))
    if (settled) this.settle(vp)
    if (this.woken.size !== 0) this.woken.delete(vp)
    return outcome
  }

  /** The VTL `vp` acts at next, its pending wakes handled first (as its next step would). */
  actingVtl(vp: number): GuestVtl {
    if (this.settled(vp)) return this.engine.vp(vp).exitVtl
    this.currentVp = vp
    const vtl = prepareVpEntry(this.engine, this.backing, vp)
    this.settle(vp)
    return vtl
  }

  /** VPs a cross-VP operation kicked and that have not run since, in VP order. */
  wokenVps(): number[] {
    return [...this.woken].sort((a, b) => a - b)
  }

  /** A woken VP handles its wakes now, without a guest action: the VTL it runs next. */
  handleWake(vp: number): GuestVtl {
    this.woken.delete(vp)
    this.settledVp = -1
    return this.actingVtl(vp)
  }

  /** Marks `vp` as kicked (restoring a snapshot). */
  markWoken(vp: number): void {
    this.woken.add(vp)
  }

  /**
   * Operations from here on run on `vp`'s thread: their TDCALLs, forwarded hypercalls and wakes
   * are attributed to it (for hosts that drive the engine directly, such as a dispatcher fuzzer).
   */
  runOn(vp: number): void {
    this.currentVp = vp
    this.settledVp = -1
  }

  /** The report's `stats`: VTL switches, TDCALLs by leaf, forwarded hypercalls by name. */
  stats(): TraceStats {
    return {
      vtlSwitches: this.switches,
      tdcalls: sortedRecord(this.tdcallTotals()),
      hypervisorCalls: sortedRecord(this.hostCounts),
    }
  }

  /** TDCALL counts by name: the per-leaf counters plus injected and unnamed ones. */
  private tdcallTotals(): Map<string, number> {
    const totals = new Map(this.tdcallCounts)
    this.leafCounts.forEach((count, leaf) => {
      if (count === 0) return
      const name = leafNames[leaf] ?? `leaf ${leaf}`
      totals.set(name, (totals.get(name) ?? 0) + count)
    })
    return totals
  }

  private loadStats(stats: TraceStats): void {
    this.switches = stats.vtlSwitches
    for (const [k, v] of Object.entries(stats.tdcalls)) this.tdcallCounts.set(k, v)
    for (const [k, v] of Object.entries(stats.hypervisorCalls)) this.hostCounts.set(k, v)
  }

  /** Counts (and traces) a VTL switch on `vp`. */
  vtlSwitch(vp: number, from: GuestVtl, to: GuestVtl, reason: string): void {
    this.switches++
    const at = this.tick(vp, this.cost.vtlSwitch)
    if (this.traceEvents) this.trace.vtlSwitch(vp, at, from, to, reason)
  }

  /** Counts one TDCALL of `leaf` on `vp` and advances its clock by the leaf's cost. */
  private countTdcall(vp: number, leaf: number): number {
    if (leaf >= 0 && leaf < LEAVES) {
      // The hot path: counts and costs by leaf number.
      this.leafCounts[leaf] = (this.leafCounts[leaf] ?? 0) + 1
      return this.tick(vp, this.leafCost[leaf] ?? 0)
    }
    return this.countUnknownLeaf(vp, leaf)
  }

  private countUnknownLeaf(vp: number, leaf: number): number {
    bump(this.tdcallCounts, `leaf ${leaf}`)
    return this.tick(vp, this.costs.tdcall(undefined))
  }

  /** Counts and costs every TDCALL; the trace event only when on (kept off the hot path). */
  private observeTdcall(vp: number, leaf: number, rax: bigint): void {
    const at = this.countTdcall(vp, leaf)
    if (this.traceEvents) this.traceTdcall(vp, at, leaf, rax)
  }

  private traceTdcall(vp: number, at: number, leaf: number, rax: bigint): void {
    const name = leafNames[leaf] ?? tdcallLeafName(leaf)
    const code = tdxStatusCode(rax)
    this.trace.tdcall(vp, at, {
      leaf,
      name: name ?? `leaf ${leaf}`,
      status: isTdxSuccess(rax) ? 'TDX_SUCCESS' : (tdxStatusName(code) ?? `0x${code.toString(16)}`),
    })
  }

  /** TDG.VP.ENTER of `vtl`'s L2 VM on `vp`: the guest runner runs and returns its exit. */
  vpEnter(vp: number, vtl: GuestVtl): TdcallOutput {
    return this.tdxCall(vp, this.enterInputs[vtl])
  }

  private hypervisorPort(): HypervisorPort {
    // The injector's hypercall, taken once (the wrapper is a proxy: no trap per forwarded call).
    const host = this.faults.wrapHypervisor(this.hypervisor)
    const hostCall = host.hypercall.bind(host)
    return {
      hypercall: (control: bigint, input: Uint8Array): HypervisorCallResult => {
        const vp = this.currentVp
        const result = hostCall(control, input)
        // The call code, bits 15:0 (the host has decoded and checked the whole word).
        const code = Number(control & 0xffffn)
        const name = hypercallName(code) ?? `0x${code.toString(16)}`
        bump(this.hostCounts, name)
        const at = this.tick(vp, this.cost.hypercallForward)
        if (!this.traceEvents) return result
        const status = decodeHypercallResult(result.result).status
        this.trace.hypercall(vp, 2, at, {
          code,
          name,
          status: hvStatusName(status) ?? `0x${status.toString(16)}`,
          forwarded: true,
        })
        return result
      },
    }
  }

  private vpPort(): VpPort {
    return {
      writeVtlRegisters: (vp: number, vtl: GuestVtl, registers: VtlRegisterWrite): HvStatus =>
        this.writeVtlRegisters(vp, vtl, registers),
      wakeVp: (vp: number): void => {
        this.woken.add(vp)
        this.wakes++
        if (!this.traceEvents) return
        this.trace.record({
          kind: 'wake',
          vp,
          vtl: 2,
          simCycles: this.clock.now(this.currentVp),
          name: 'wake',
          args: { by: this.currentVp },
        })
      },
      injectException: (vp: number, vtl: GuestVtl, exception: InjectedException): void => {
        // VM-entry event injection on the VTL's VMCS, as on hardware.
        for (const { encoding, value } of exceptionInjectionWrites(exception)) {
          this.tdxCall(vp, vpWrInput(vtl, encoding, value))
        }
        this.guestVp(vp).exception = exception.vector
        const at = this.tick(vp, this.cost.interrupt)
        if (!this.traceEvents) return
        this.trace.record({
          kind: 'interrupt',
          vp,
          vtl,
          simCycles: at,
          name: `exception ${exception.vector}`,
          args: { vector: exception.vector },
        })
      },
    }
  }

  /**
   * TDG.VP.WR of every VMCS field the write touches, on VMCS #1 (VTL0) or #2 (VTL1), each through
   * the TDCALL port (fault injector, module, per-leaf count and cost, trace). A failing TDCALL
   * undoes the fields already written (from the engine's unchanged bank) and reports
   * OperationFailed, so that the engine keeps its state and the context stays queued.
   */
  private writeVtlRegisters(vp: number, vtl: GuestVtl, registers: VtlRegisterWrite): HvStatus {
    this.wrVp = vp
    this.wrVtl = vtl
    this.wrFailures = 0
    // A shared initial context's fields are worked out once, not per AP.
    const plan = vmcsWritePlan(registers)
    let written = 0
    if (plan === undefined) {
      written = forEachVmcsWrite(registers, this.writeVmcsField)
    } else {
      const { encodings, values, indices } = plan
      const count = values.length
      while (
        written < count &&
        this.writeVmcsField(
          encodings[written] as number,
          values[written] as bigint,
          indices[written] as number
        )
      ) {
        written++
      }
    }
    if (this.wrFailures === 0) return HvStatus.Success
    const before = new Map(
      vmcsWrites(this.engine.vp(vp).vtls[vtl].registers).map((w) => [w.encoding, w.value])
    )
    for (const { encoding } of vmcsWrites(registers).slice(0, written)) {
      this.module.tdcall(vp, vpWrInput(vtl, encoding, before.get(encoding) ?? 0n))
    }
    return HvStatus.OperationFailed
  }

  /** One field of `writeVtlRegisters` (a single function for every call: no closure per write). */
  private readonly writeVmcsField = (encoding: number, value: bigint, index: number): boolean => {
    const vtl = this.wrVtl
    const fields = this.wrFields[vtl]
    let field = fields[index]
    if (field === undefined) {
      const spec = vpWrField(encoding)
      field = this.module.prepareVpWr(spec[vtl], spec[2])
      fields[index] = field
    }
    const rax = this.tdx.vpWrStatus(this.wrVp, field, value)
    if (rax === 0n || isTdxSuccess(rax)) return true
    this.wrFailures++
    return false
  }
}
