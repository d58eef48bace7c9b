import {
  HV_MAP_GPA_PERMISSIONS_ALL,
  HvStatus,
  PAGES_PER_LEVEL,
  TdcallLeaf,
  VsmEngine,
  VtlError,
  decodeHypercallControl,
  hypercallName,
  isTdxSuccess,
  tdgVpWr,
  vmcsFieldCode,
  type GuestVtl,
  type HypervisorCallResult,
  type HypervisorPort,
  type InjectedException,
  type SharedVsmState,
  type TdcallInput,
  type TdcallOutput,
  type VpPort,
  type VtlRegisterWrite,
} from '@vtl/core'
import { GpaSpace, type PlanOp, type PlanSink } from '@vtl/memory'
import { MemoryContents } from '../guest/memory-contents.js'
import { BasicPlatform } from './basic-platform.js'
import { ArmedFaults, hypercallKey, leafLabel, tdcallKey } from './faults.js'
import type { TdPlatform } from './platform.js'
import { TdTrace } from './td-trace.js'
import { vmcsWrites } from './vmcs-writes.js'

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
  /** Keep every event in `trace.events` (default true; counters run either way). */
  recordTrace?: boolean
  /** The platform (TDX module + hypervisor); default a `BasicPlatform`. */
  platform?: TdPlatform
  /** Cross-VP engine state, e.g. SharedArrayBuffer-backed for a parallel host. */
  shared?: SharedVsmState
  /** The partition's `access_vsm` privilege (default true; false makes VSM NotPlatformSupported). */
  accessVsmPrivilege?: boolean
}

/** The guest-side state of a VP that the TD keeps between steps (created on first use). */
export interface GuestVpState {
  /** A hypercall that must be retried (TLB-lock wait): the VP is blocked until it completes. */
  blocked: { control: bigint; input: Uint8Array; fast: boolean } | undefined
  /** The last exception the paravisor injected (vector), cleared when a step reads it. */
  exception: number | undefined
}

const U64_ALL = 0xffff_ffff_ffff_ffffn
const MAX_VPS = 1024

/** Names of plan operations as TDCALLs (map-gpa goes to the host instead). */
const OP_LEAF: Readonly<Record<Exclude<PlanOp['kind'], 'map-gpa'>, number>> = {
  accept: TdcallLeaf['TDG.MEM.PAGE.ACCEPT'],
  'attr-write': TdcallLeaf['TDG.MEM.PAGE.ATTR.WR'],
  release: TdcallLeaf['TDG.MEM.PAGE.RELEASE'],
}

/**
 * A software TD: the platform (TDX module and untrusted hypervisor), the GPA space with the
 * module as its plan sink, guest memory contents, and core's VSM engine with its ports bound to
 * them. Cross-VP state lives only in the engine's `SharedVsmState` and in the platform/GpaSpace,
 * so a parallel host can run VPs on worker threads over a shared-memory `SharedVsmState`.
 */
export class SimTd {
  readonly vpCount: number
  readonly memoryBytes: bigint
  readonly gpaWidth: 48 | 52
  readonly mbecCapable: boolean
  readonly seed: number
  readonly platform: TdPlatform
  readonly space: GpaSpace
  readonly engine: VsmEngine
  readonly faults = new ArmedFaults()
  readonly trace: TdTrace
  contents = new MemoryContents()
  private readonly guestVps = new Map<number, GuestVpState>()
  /** The VTL each VP last ran (per VP, VP-owned): a different next entry is a VTL switch. */
  readonly enteredVtl: Uint8Array
  /** VPs kicked by a cross-VP operation since the scheduler last looked. */
  readonly woken = new Set<number>()
  /** The VP on whose thread the current operation runs (for TDCALL attribution). */
  currentVp = 0

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
    this.vpCount = options.vps
    this.enteredVtl = new Uint8Array(options.vps)
    this.memoryBytes = options.memory
    this.gpaWidth = options.gpaWidth ?? 48
    this.mbecCapable = options.mbecCapable ?? true
    this.seed = options.seed ?? 0
    this.trace = new TdTrace(options.recordTrace ?? true)
    const platform = options.platform ?? new BasicPlatform()
    this.platform = platform

    this.space = new GpaSpace({
      gpaWidth: this.gpaWidth,
      ram: [{ start: 0n, end: options.memory }],
      sink: this.planSink(platform.planSink(0)),
    })
    if (platform instanceof BasicPlatform) platform.bindSpace(this.space)
    // Boot state (§5.2): RAM accepted and private, VTL0 FULL_ACCESS, VTL1 none. O(log n).
    this.space.mark(
      { start: 0n, end: options.memory },
      { accepted: true, shared: false, vtl0: HV_MAP_GPA_PERMISSIONS_ALL, vtl1: null }
    )

    this.engine = new VsmEngine({
      vpCount: options.vps,
      ports: { hypervisor: this.hypervisorPort(), vp: this.vpPort(), protection: this.space },
      ...(options.shared === undefined ? {} : { shared: options.shared }),
      ...(options.accessVsmPrivilege === undefined
        ? {}
        : { accessVsmPrivilege: options.accessVsmPrivilege }),
    })
    // VPs in startedVps run VTL0; the others wait for StartVirtualProcessor (scenario-format.md).
    // The engine already set the once-only started flag for VP 0 alone (§13.7).
    if (options.startedVps !== undefined) {
      const started = new Set(options.startedVps)
      for (const vp of this.engine.vps) {
        vp.vtls[0].apic.activity = started.has(vp.index) ? 'running' : 'wait-for-sipi'
      }
    } else {
      for (const vp of this.engine.vps) vp.vtls[0].apic.activity = 'running'
    }
  }

  guestVp(vp: number): GuestVpState {
    let state = this.guestVps.get(vp)
    if (state === undefined) {
      state = { blocked: undefined, exception: undefined }
      this.guestVps.set(vp, state)
    }
    return state
  }

  /** Guest VP states that differ from the initial one (for snapshots). */
  guestVpEntries(): [number, GuestVpState][] {
    return [...this.guestVps].filter(
      ([, s]) => s.blocked !== undefined || s.exception !== undefined
    )
  }

  /** One TDCALL on `vp`, through fault injection, counted and traced. */
  tdcall(vp: number, input: TdcallInput): TdcallOutput {
    const injected = this.faults.take(tdcallKey(input.leaf))
    const name = leafLabel(input.leaf)
    if (injected !== undefined) {
      this.trace.emit(vp, 'tdcall', name, `injected 0x${injected.toString(16)}`)
      return { rax: injected, rcx: 0n, rdx: 0n, r8: 0n, r9: 0n, r10: 0n, r11: 0n }
    }
    this.trace.emit(vp, 'tdcall', name)
    return this.platform.tdcall(vp, input)
  }

  private planSink(inner: PlanSink): PlanSink {
    return {
      execute: (op: PlanOp): bigint => {
        if (op.kind === 'map-gpa') {
          this.trace.emit(this.currentVp, 'hypervisor', 'MapGpa')
          return inner.execute(op)
        }
        const leaf = OP_LEAF[op.kind]
        const injected = this.faults.take(tdcallKey(leaf))
        const name = leafLabel(leaf)
        if (injected !== undefined) {
          this.trace.emit(this.currentVp, 'tdcall', name, `injected 0x${injected.toString(16)}`)
          return injected
        }
        this.trace.emit(this.currentVp, 'tdcall', name)
        const status = inner.execute(op)
        // TDX zeroes the pages it accepts.
        if (status === 0n && op.kind === 'accept') {
          this.contents.zero(Number(op.gpn), Number(PAGES_PER_LEVEL[op.level]))
        }
        return status
      },
    }
  }

  private hypervisorPort(): HypervisorPort {
    return {
      hypercall: (control: bigint, input: Uint8Array): HypervisorCallResult => {
        const { code } = decodeHypercallControl(control)
        const name = hypercallName(code) ?? `0x${code.toString(16)}`
        const injected = this.faults.take(hypercallKey(code))
        if (injected !== undefined) {
          this.trace.emit(this.currentVp, 'hypervisor', name, `injected ${injected}`)
          return { result: injected }
        }
        this.trace.emit(this.currentVp, 'hypervisor', name)
        return this.platform.hypervisor.hypercall(control, input)
      },
    }
  }

  private vpPort(): VpPort {
    return {
      writeVtlRegisters: (vp: number, vtl: GuestVtl, registers: VtlRegisterWrite): HvStatus =>
        this.writeVtlRegisters(vp, vtl, registers),
      wakeVp: (vp: number): void => {
        this.woken.add(vp)
        this.trace.emit(vp, 'wake', 'wake')
      },
      injectException: (vp: number, vtl: GuestVtl, exception: InjectedException): void => {
        this.guestVp(vp).exception = exception.vector
        this.trace.emit(vp, 'exception', `vector ${exception.vector}`, `vtl${vtl}`)
      },
    }
  }

  /**
   * TDG.VP.WR of every VMCS field the write touches, on VMCS #1 (VTL0) or #2 (VTL1). A failing
   * TDCALL undoes the fields already written (from the engine's unchanged bank) and reports
   * OperationFailed, so that the engine keeps its state and the context stays queued.
   */
  private writeVtlRegisters(vp: number, vtl: GuestVtl, registers: VtlRegisterWrite): HvStatus {
    const writes = vmcsWrites(registers)
    for (let i = 0; i < writes.length; i++) {
      const [encoding, value] = writes[i] as [number, bigint]
      const out = this.tdcall(vp, tdgVpWr(vmcsFieldCode(vtl, encoding), value, U64_ALL))
      if (!isTdxSuccess(out.rax)) {
        const before = new Map(vmcsWrites(this.engine.vp(vp).vtls[vtl].registers))
        for (const [undo] of writes.slice(0, i)) {
          this.platform.tdcall(
            vp,
            tdgVpWr(vmcsFieldCode(vtl, undo), before.get(undo) ?? 0n, U64_ALL)
          )
        }
        return HvStatus.OperationFailed
      }
    }
    return HvStatus.Success
  }
}
