import {
  GuestVsmState,
  HV_MAP_GPA_PERMISSIONS_ALL,
  HV_PARTITION_ID_SELF,
  HV_VP_INDEX_SELF,
  HvMapGpaFlags,
  HvStatus,
  PartitionField,
  PendingOperation,
  VsmPartitionConfigCodec,
  VtlError,
  enablePartitionVtl,
  enablePartitionVtlFlags,
  enableVpVtl,
  exitToParavisor,
  hvStatusName,
  modifyVtlProtectionMask,
  prepareEntry,
  setVsmPartitionConfig,
  startVirtualProcessor,
  vtlCall,
  vtlReturn,
  type GuestVtl,
  type HvStatus as HvStatusType,
  type VsmEngine,
} from '@vtl/core'
import { createRandom, type Random } from '../random.js'
import { defaultVpContext } from '../scenario/default-context.js'
import type { HostChannel } from './host-channel.js'
import type { VpOutcome } from './runner.js'
import { Counter, type RunControl } from './run-control.js'

/** What the VPs do: the operation mix and how long. */
export interface Workload {
  /** Guest steps (one entry + one exit each) per VP. */
  stepsPerVp: number
  /** Seed of the per-VP streams (VP v uses `fork('vp' + v)`). */
  seed: number
  /**
   * Share of VTL1 steps that change the VP's protection page (a round trip to the host owner).
   * Default 0.3.
   */
  protectShare?: number
  /**
   * Share of steps that are cross-VP calls: in VTL0 StartVirtualProcessor (and, an eighth of
   * them, EnableVpVtl on itself), in VTL1 EnableVpVtl / StartVirtualProcessor(VTL1) on another
   * VP. Default 0.4. The rest are VtlCall/VtlReturn and accesses to protection pages.
   */
  crossShare?: number
  /**
   * Every VP's VTL0 runs from the start (SimTd's default boot) instead of waiting for a
   * StartVirtualProcessor; the benchmark uses it so that every worker has the same work.
   */
  allRunning?: boolean
}

/** Throws when the shares do not form a mix or the step count is not a count. */
export function checkWorkload(workload: Workload): void {
  const protect = workload.protectShare ?? 0.3
  const cross = workload.crossShare ?? 0.4
  if (!(protect >= 0 && cross >= 0 && protect + cross <= 1)) {
    throw new VtlError('E_FIELD_RANGE', 'protectShare and crossShare must be ≥ 0 with sum ≤ 1', {
      field: 'workload',
    })
  }
  if (!Number.isSafeInteger(workload.stepsPerVp) || workload.stepsPerVp < 0) {
    throw new VtlError('E_FIELD_RANGE', 'stepsPerVp must be a non-negative integer', {
      field: 'workload.stepsPerVp',
    })
  }
}

/** GPN of the page only `vp`'s VTL1 changes (every VP reads every such page). */
export const protectionPage = (vp: number): number => 16 + vp

/** Flags the k-th acknowledged change of a protection page sets: odd R, even everything. */
export const flagsForVersion = (version: number): number =>
  version % 2 === 1 ? HvMapGpaFlags.Readable : HV_MAP_GPA_PERMISSIONS_ALL

// Initial-context RIPs say which operation queued them for which target.
const RIP_ENABLE = 0x10_0000n
const RIP_START_VTL0 = 0x20_0000n
const RIP_START_VTL1 = 0x30_0000n
const ripFor = (base: bigint, vp: number): bigint => base + BigInt(vp) * 0x1000n

/** The VsmPartitionConfig value: protections on, default VTL0 mask unchanged (ALL). */
const VSM_CONFIG = VsmPartitionConfigCodec.encode({
  enableVtlProtection: true,
  defaultVtlProtectionMask: HV_MAP_GPA_PERMISSIONS_ALL,
})

/**
 * Drives the VPs one worker owns over a shared engine state: each step is what a VP thread does
 * around one lower-VTL entry (prepareEntry, the guest's one action, the exit), with the guest's
 * action drawn from a seeded per-VP stream. Checks that need no global view run on the spot and
 * are recorded as violations.
 */
export class VpDriver {
  readonly violations: string[] = []
  private readonly engine: VsmEngine
  private readonly host: HostChannel
  private readonly control: RunControl
  private readonly random: Random[]
  private readonly protectShare: number
  private readonly crossShare: number
  private readonly counts = new Float64Array(Object.keys(Counter).length)
  /** The RIP of the VTL1 context each VP's registers were set from (0: none applied). */
  private readonly vtl1Context: bigint[]
  /** Per VP: the version of its own page its last acknowledged change produced. */
  private readonly ownVersion: number[]
  private readonly triedSelfEnable: boolean[]
  /** Per VP: a StartVp(VTL1) context was applied while VTL1 was not Active (§13.8 overwrite). */
  private readonly vtl1StartedInactive: boolean[]

  constructor(engine: VsmEngine, host: HostChannel, control: RunControl, workload: Workload) {
    this.engine = engine
    this.host = host
    this.control = control
    checkWorkload(workload)
    this.protectShare = workload.protectShare ?? 0.3
    this.crossShare = workload.crossShare ?? 0.4
    const root = createRandom(workload.seed)
    this.random = Array.from({ length: engine.vpCount }, (_, vp) => root.fork(`vp${vp}`))
    this.vtl1Context = Array.from({ length: engine.vpCount }, () => 0n)
    this.ownVersion = Array.from({ length: engine.vpCount }, () => 0)
    this.triedSelfEnable = Array.from({ length: engine.vpCount }, () => false)
    this.vtl1StartedInactive = Array.from({ length: engine.vpCount }, () => false)
  }

  /** The VpPort's register write: remember which context VTL1's registers came from. */
  registersWritten(vp: number, vtl: GuestVtl, rip: bigint | undefined): void {
    if (vtl === 1 && rip !== undefined) this.vtl1Context[vp] = rip
  }

  private violation(message: string): void {
    this.violations.push(message)
    this.count(Counter.Violations)
  }

  /** Counted locally (a shared counter word would bounce between the cores on every step). */
  private count(counter: Counter): void {
    this.counts[counter] = (this.counts[counter] ?? 0) + 1
  }

  /** Add this worker's counts to the shared counters. */
  flushCounters(): void {
    this.counts.forEach((n, counter) => {
      if (n !== 0) this.control.add(counter as Counter, n)
    })
    this.counts.fill(0)
  }

  /** Entry side: wake handling and the Active-needs-context checks. */
  private enter(vp: number): void {
    const { engine } = this
    const plan = prepareEntry(engine, vp)
    const state = engine.vp(vp)
    for (const vtl of [0, 1] as const) {
      const op = plan.wake.applied[vtl]
      if (op === PendingOperation.None) continue
      this.count(Counter.ContextsApplied)
      const base =
        op === PendingOperation.EnableVpVtl
          ? RIP_ENABLE
          : vtl === 0
            ? RIP_START_VTL0
            : RIP_START_VTL1
      if (vtl === 1 && op === PendingOperation.StartVp && state.vtl1 === undefined) {
        this.vtl1StartedInactive[vp] = true
      }
      const rip = state.vtls[vtl].registers.rip
      if (rip !== ripFor(base, vp)) {
        this.violation(`VP ${vp}: VTL${vtl} context applied with RIP 0x${rip.toString(16)}`)
      }
    }
    this.checkActive(vp)
  }

  /** No VP is Active without its context, nor without its enable flag. */
  checkActive(vp: number): boolean {
    const active = this.engine.vp(vp).vtl1 !== undefined
    if (!active) return false
    if (!this.engine.shared.vtl1EnableCalled(vp)) {
      this.violation(`VP ${vp}: VTL1 Active but vtl1_enable_called is false`)
    }
    const rip = this.vtl1Context[vp] ?? 0n
    if (rip !== ripFor(RIP_ENABLE, vp) && rip !== ripFor(RIP_START_VTL1, vp)) {
      this.violation(`VP ${vp}: VTL1 Active without its context (RIP 0x${rip.toString(16)})`)
    }
    return true
  }

  /**
   * A VTL0 access of `vp` to another VP's protection page: the snapshot must show at least the
   * version that page's owner had acknowledged before the access started (exactly it for the
   * owner itself), with the flags that version set.
   */
  access(vp: number, owner: number, write: boolean, exact = owner === vp): void {
    const acknowledged =
      owner === vp ? (this.ownVersion[vp] ?? 0) : this.control.acknowledged(owner)
    const gpn = protectionPage(owner)
    const seen = this.host.permission(0, gpn)
    this.count(Counter.Accesses)
    if (seen.version < acknowledged || (exact && seen.version !== acknowledged)) {
      this.violation(
        `VP ${vp}: page ${gpn} at version ${seen.version} after version ${acknowledged} was acknowledged`
      )
    }
    if (seen.flags !== flagsForVersion(seen.version)) {
      this.violation(`VP ${vp}: page ${gpn} version ${seen.version} has flags ${seen.flags}`)
    }
    const need = write ? HvMapGpaFlags.Writable : HvMapGpaFlags.Readable
    if (((seen.flags ?? 0) & need) === 0) this.count(Counter.AccessesDenied)
  }

  private other(vp: number, random: Random): number {
    const n = this.engine.vpCount
    return n === 1 ? vp : (vp + 1 + random.int(n - 1)) % n
  }

  private context(base: bigint, target: number): ReturnType<typeof defaultVpContext> {
    return { ...defaultVpContext(), rip: ripFor(base, target) }
  }

  /** One step of `vp`: entry, the guest's action, exit. False when the VP is not running. */
  step(vp: number): boolean {
    this.enter(vp)
    const { engine } = this
    const state = engine.vp(vp)
    if (state.vtls[state.exitVtl].apic.activity !== 'running') {
      this.count(Counter.Idle)
      return false
    }
    // The guest ran and exited to the paravisor.
    exitToParavisor(engine, vp)
    this.count(Counter.Steps)
    const random = this.random[vp] ?? createRandom(vp)
    if (state.exitVtl === 0) this.vtl0Action(vp, random)
    else this.vtl1Action(vp, random)
    return true
  }

  private vtl0Action(vp: number, random: Random): void {
    const { engine } = this
    if (engine.guestVsmState !== GuestVsmState.Enabled) {
      const status = enablePartitionVtl(engine, {
        partitionId: HV_PARTITION_ID_SELF,
        targetVtl: 1,
        flags: enablePartitionVtlFlags(),
      })
      if (status === HvStatus.Success) this.count(Counter.PartitionEnableSuccess)
      else if (status === HvStatus.InvalidVtlState) this.count(Counter.PartitionEnableRefused)
      else this.unexpected(vp, 'EnablePartitionVtl', status)
      return
    }
    const r = random.next()
    const cross = this.crossShare
    if (!this.triedSelfEnable[vp] || r < cross / 8) {
      this.triedSelfEnable[vp] = true
      this.enableFromVtl0(vp)
    } else if (r < cross) {
      const target = this.other(vp, random)
      this.start(vp, target, 0)
    } else if (r < cross + (1 - cross) / 2 && engine.vp(vp).vtl1 !== undefined) {
      engine.vp(vp).shared.rax = 0n
      if (!vtlCall(engine, vp, 0x11n, 0n)) this.violation(`VP ${vp}: VtlCall refused while Active`)
      else this.count(Counter.VtlCalls)
    } else {
      this.access(vp, random.int(engine.vpCount), random.next() < 0.5)
    }
  }

  private vtl1Action(vp: number, random: Random): void {
    const { engine } = this
    if (engine.shared.partitionField(PartitionField.Vtl1ProtectionsEnabled) === 0) {
      const status = setVsmPartitionConfig(engine, VSM_CONFIG)
      if (status === HvStatus.Success) this.count(Counter.ConfigWrites)
      else this.unexpected(vp, 'VsmPartitionConfig', status)
      return
    }
    const r = random.next()
    const protect = this.protectShare
    const cross = this.crossShare
    if (r < protect) {
      this.protect(vp)
    } else if (r < protect + cross / 2) {
      this.enableFromVtl1(vp, this.other(vp, random))
    } else if (r < protect + cross) {
      this.start(vp, this.other(vp, random), 1)
    } else {
      if (!vtlReturn(engine, vp, 0x12n, 1n)) this.violation(`VP ${vp}: VtlReturn refused`)
      else this.count(Counter.VtlReturns)
    }
  }

  private unexpected(vp: number, call: string, status: HvStatusType): void {
    this.violation(`VP ${vp}: ${call} answered ${hvStatusName(status) ?? status}`)
  }

  /** The first-enable race: VTL0 may enable VTL1 on itself only as the first VP. */
  private enableFromVtl0(vp: number): void {
    const status = enableVpVtl(this.engine, vp, {
      partitionId: HV_PARTITION_ID_SELF,
      vpIndex: HV_VP_INDEX_SELF,
      targetVtl: 1,
      context: this.context(RIP_ENABLE, vp),
    })
    if (status === HvStatus.Success) {
      this.count(Counter.Vtl0EnableSuccess)
      this.control.addEnableWin(vp)
    } else if (status === HvStatus.AccessDenied) {
      this.count(Counter.Vtl0EnableDenied)
    } else {
      this.unexpected(vp, 'EnableVpVtl from VTL0', status)
    }
  }

  private enableFromVtl1(vp: number, target: number): void {
    const status = enableVpVtl(this.engine, vp, {
      partitionId: HV_PARTITION_ID_SELF,
      vpIndex: target,
      targetVtl: 1,
      context: this.context(RIP_ENABLE, target),
    })
    if (status === HvStatus.Success) {
      this.count(Counter.Vtl1EnableSuccess)
      this.control.addEnableWin(target)
    } else if (status === HvStatus.VtlAlreadyEnabled) {
      this.count(Counter.Vtl1EnableAlready)
    } else {
      this.unexpected(vp, 'EnableVpVtl from VTL1', status)
    }
  }

  private start(vp: number, target: number, vtl: GuestVtl): void {
    const status = startVirtualProcessor(this.engine, vp, {
      partitionId: HV_PARTITION_ID_SELF,
      vpIndex: target,
      targetVtl: vtl,
      context: this.context(vtl === 0 ? RIP_START_VTL0 : RIP_START_VTL1, target),
    })
    if (status === HvStatus.Success) {
      this.count(Counter.StartSuccess)
      this.control.addStartWin(target)
    } else if (status === HvStatus.InvalidVpState) {
      this.count(Counter.StartRefused)
    } else {
      this.unexpected(vp, `StartVirtualProcessor VTL${vtl}`, status)
    }
  }

  /** VTL1 changes VTL0's access to its own page; after the acknowledgement it reads it back. */
  private protect(vp: number): void {
    const version = (this.ownVersion[vp] ?? 0) + 1
    const result = modifyVtlProtectionMask(
      this.engine,
      vp,
      { partitionId: HV_PARTITION_ID_SELF, mapFlags: flagsForVersion(version), targetVtl: 0 },
      [BigInt(protectionPage(vp))]
    )
    if (result.status !== HvStatus.Success) {
      this.count(Counter.ProtectRefused)
      this.unexpected(vp, 'ModifyVtlProtectionMask', result.status)
      return
    }
    this.ownVersion[vp] = version
    this.control.setAcknowledged(vp, version)
    this.count(Counter.ProtectSuccess)
    // The caller's own next access.
    this.access(vp, vp, false)
  }

  /** After every worker stopped: drain wakes and report what each owned VP ended as. */
  finish(vp: number): VpOutcome {
    prepareEntry(this.engine, vp)
    const state = this.engine.vp(vp)
    const active = this.checkActive(vp)
    // Nothing changes any more: every VP must see exactly the last acknowledged versions.
    for (let owner = 0; owner < this.engine.vpCount; owner++) this.access(vp, owner, false, true)
    return {
      vp,
      active,
      exitVtl: state.exitVtl,
      running: state.vtls[0].apic.activity === 'running',
      vtl1StartedInactive: this.vtl1StartedInactive[vp] ?? false,
    }
  }
}
