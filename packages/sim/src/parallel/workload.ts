import {
  GuestVsmState,
  HV_MAP_GPA_PERMISSIONS_ALL,
  HV_PARTITION_ID_SELF,
  HV_VP_INDEX_SELF,
  HvMapGpaFlags,
  HvRegisterName,
  HvStatus,
  HypercallCode,
  PartitionField,
  VmxExitBasic,
  VsmPartitionConfigCodec,
  VtlError,
  emptyVpExit,
  enablePartitionVtlFlags,
  encodeEnablePartitionVtl,
  encodeEnableVpVtl,
  encodeHypercallControl,
  encodeModifyVtlProtectionMask,
  encodeSetVpRegisters,
  encodeStartVirtualProcessor,
  hvStatusName,
  prepareEntry,
  runVp,
  type GpaWidth,
  type GuestVtl,
  type HvStatus as HvStatusType,
  type PageFacts,
  type VpBacking,
  type VpExit,
  type VsmEngine,
} from '@vtl/core'
import { MemoryContents } from '../guest/memory-contents.js'
import { createRandom, type Random } from '../random.js'
import { defaultVpContext } from '../scenario/default-context.js'
import { permissionFlags, permissionVersion, type HostChannel } from './host-channel.js'
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

/** The guest's call on its current entry, and what the driver makes of its status. */
type PendingCall =
  | { kind: 'enable-partition' }
  | { kind: 'enable-self' }
  | { kind: 'enable-other'; target: number }
  | { kind: 'start'; target: number; vtl: GuestVtl }
  | { kind: 'vtl-call' }
  | { kind: 'vtl-return' }
  | { kind: 'config' }
  | { kind: 'protect'; version: number }

// The calls without operands, shared (a pending call is only read).
const VTL_CALL: PendingCall = { kind: 'vtl-call' }
const VTL_RETURN: PendingCall = { kind: 'vtl-return' }

const PREEMPTED: VpExit = { ...emptyVpExit(), reason: VmxExitBasic.EXTERNAL_INTERRUPT }
const VMCALL: VpExit = { ...emptyVpExit(), reason: VmxExitBasic.VMCALL, instructionLength: 3 }
/** Each VP's input page: a private page per VP (only the VP's own worker touches it). */
const inputGpa = (vp: number): bigint => BigInt(0x10_0000 + vp * 0x1000)

function control(code: number, repCount = 0): bigint {
  return encodeHypercallControl({
    code,
    fast: false,
    variableHeaderSize: 0,
    nested: false,
    repCount,
    repStart: 0,
  })
}

/**
 * Drives the VPs one worker owns over a shared engine state, as a backing of core's VP loop:
 * each step is one pass of `runVp` (entry preparation, the guest's one action, the exit switch).
 * The guest draws its action from a seeded per-VP stream and issues it the way a guest does: a
 * VMCALL with the TLFS registers and its input page in guest RAM. Checks that need no global view
 * run on the spot and are recorded as violations.
 */
export class VpDriver implements VpBacking {
  readonly violations: string[] = []
  readonly gpaWidth: GpaWidth = 48
  readonly mbecCapable = true
  private readonly engine: VsmEngine
  private readonly host: HostChannel
  private readonly control: RunControl
  private readonly random: Random[]
  private readonly protectShare: number
  private readonly crossShare: number
  private readonly counts = new Float64Array(Object.keys(Counter).length)
  /** The input pages of this worker's VPs. */
  private readonly ram = new MemoryContents()
  private readonly pending: (PendingCall | undefined)[]
  /** The RIP of the VTL1 context each VP's registers were set from (0: none applied). */
  private readonly vtl1Context: bigint[]
  /** Per VP: the version of its own page its last acknowledged change produced. */
  private readonly ownVersion: number[]
  private readonly triedSelfEnable: boolean[]
  /** Per VP: a StartVp(VTL1) context was applied while VTL1 was not Active (§13.8 overwrite). */
  private readonly vtl1StartedInactive: boolean[]
  /** Per VP: the StartVp(VTL1) context was just applied (checked once the entry is prepared). */
  private readonly vtl1StartApplied: boolean[]
  private static readonly NO_XMM: readonly bigint[] = Array.from({ length: 12 }, () => 0n)

  constructor(engine: VsmEngine, host: HostChannel, control: RunControl, workload: Workload) {
    this.engine = engine
    this.host = host
    this.control = control
    checkWorkload(workload)
    this.protectShare = workload.protectShare ?? 0.3
    this.crossShare = workload.crossShare ?? 0.4
    const root = createRandom(workload.seed)
    const n = engine.vpCount
    this.random = Array.from({ length: n }, (_, vp) => root.fork(`vp${vp}`))
    this.pending = Array.from({ length: n }, () => undefined)
    this.vtl1Context = Array.from({ length: n }, () => 0n)
    this.ownVersion = Array.from({ length: n }, () => 0)
    this.triedSelfEnable = Array.from({ length: n }, () => false)
    this.vtl1StartedInactive = Array.from({ length: n }, () => false)
    this.vtl1StartApplied = Array.from({ length: n }, () => false)
  }

  /**
   * The VpPort's register write, which only applies a queued initial context here: count it,
   * check its RIP names the operation that queued it for this VP, and remember VTL1's.
   */
  registersWritten(vp: number, vtl: GuestVtl, rip: bigint | undefined): void {
    if (rip === undefined) return
    this.count(Counter.ContextsApplied)
    const expected =
      vtl === 0
        ? [ripFor(RIP_START_VTL0, vp)]
        : [ripFor(RIP_ENABLE, vp), ripFor(RIP_START_VTL1, vp)]
    if (!expected.includes(rip)) {
      this.violation(`VP ${vp}: VTL${vtl} context applied with RIP 0x${rip.toString(16)}`)
    }
    if (vtl === 1) {
      this.vtl1Context[vp] = rip
      if (rip === ripFor(RIP_START_VTL1, vp)) this.vtl1StartApplied[vp] = true
    }
  }

  // ---- VpBacking ----

  /** The guest on `vtl` draws its action: a VMCALL, or an access that needs no exit. */
  enter(vp: number, vtl: GuestVtl): VpExit {
    const random = this.random[vp] ?? createRandom(vp)
    this.pending[vp] = undefined
    if (vtl === 0) return this.vtl0Action(vp, random)
    return this.vtl1Action(vp, random)
  }

  xmm(): readonly bigint[] {
    return VpDriver.NO_XMM
  }

  readGuest(gpa: bigint, length: number): Uint8Array | undefined {
    return this.ram.readBytes(gpa, length)
  }

  writeGuest(gpa: bigint, bytes: Uint8Array): boolean {
    this.ram.writeBytes(gpa, bytes)
    return true
  }

  /** Never asked: the workload's guests take no EPT violations (accesses are checked here). */
  pageFacts(): PageFacts {
    return { ram: true, shared: false, accepted: true, vm1: 0, vm2: 0 }
  }

  /** After each entry preparation: a StartVp(VTL1) context applied while VTL1 is not Active. */
  prepared(vp: number): void {
    if (!this.vtl1StartApplied[vp]) return
    this.vtl1StartApplied[vp] = false
    if (this.engine.vp(vp).vtl1 === undefined) this.vtl1StartedInactive[vp] = true
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
    // The word, not `permission()`: no object per access (every VTL0 step makes one).
    const word = this.host.permissionWord(0, gpn)
    const version = permissionVersion(word)
    const flags = permissionFlags(word)
    this.count(Counter.Accesses)
    if (version < acknowledged || (exact && version !== acknowledged)) {
      this.violation(
        `VP ${vp}: page ${gpn} at version ${version} after version ${acknowledged} was acknowledged`
      )
    }
    if (flags !== flagsForVersion(version)) {
      this.violation(`VP ${vp}: page ${gpn} version ${version} has flags ${flags}`)
    }
    const need = write ? HvMapGpaFlags.Writable : HvMapGpaFlags.Readable
    if (((flags ?? 0) & need) === 0) this.count(Counter.AccessesDenied)
  }

  private other(vp: number, random: Random): number {
    const n = this.engine.vpCount
    return n === 1 ? vp : (vp + 1 + random.int(n - 1)) % n
  }

  private context(base: bigint, target: number): ReturnType<typeof defaultVpContext> {
    return { ...defaultVpContext(), rip: ripFor(base, target) }
  }

  /** A memory hypercall: the input page written, RCX/RDX/R8 set, the VMCALL exit. */
  private call(vp: number, call: PendingCall, controlWord: bigint, input: Uint8Array): VpExit {
    const gpa = inputGpa(vp)
    this.ram.writeBytes(gpa, input)
    const regs = this.engine.vp(vp).shared
    regs.rcx = controlWord
    regs.rdx = gpa
    regs.r8 = gpa
    this.pending[vp] = call
    return VMCALL
  }

  /** VtlCall/VtlReturn: RCX = the code, RAX = the input. */
  private switchVtl(vp: number, call: PendingCall, code: bigint, input: bigint): VpExit {
    const regs = this.engine.vp(vp).shared
    regs.rax = input
    regs.rcx = code
    this.pending[vp] = call
    return VMCALL
  }

  /**
   * One step of `vp`: a pass of the loop, then what the guest makes of its call's status. False
   * when the VP is not running.
   */
  step(vp: number): boolean {
    const run = runVp(this.engine, this, vp)
    this.checkActive(vp)
    if (run.blocked !== undefined) {
      this.count(Counter.Idle)
      return false
    }
    this.count(Counter.Steps)
    const call = this.pending[vp]
    this.pending[vp] = undefined
    if (call === undefined || run.exit?.kind !== 'vmcall') return true
    const outcome = run.exit.outcome
    if (call.kind === 'vtl-call' || call.kind === 'vtl-return') {
      if (outcome.kind === 'vtl-switch') {
        this.count(call.kind === 'vtl-call' ? Counter.VtlCalls : Counter.VtlReturns)
      } else {
        this.violation(
          `VP ${vp}: ${call.kind === 'vtl-call' ? 'VtlCall refused while Active' : 'VtlReturn refused'}`
        )
      }
      return true
    }
    const status = outcome.kind === 'completed' ? outcome.status : HvStatus.InvalidHypercallInput
    this.settle(vp, call, status)
    return true
  }

  private settle(vp: number, call: PendingCall, status: HvStatusType): void {
    switch (call.kind) {
      case 'enable-partition':
        if (status === HvStatus.Success) this.count(Counter.PartitionEnableSuccess)
        else if (status === HvStatus.InvalidVtlState) this.count(Counter.PartitionEnableRefused)
        else this.unexpected(vp, 'EnablePartitionVtl', status)
        return
      case 'config':
        if (status === HvStatus.Success) this.count(Counter.ConfigWrites)
        else this.unexpected(vp, 'VsmPartitionConfig', status)
        return
      case 'enable-self':
        if (status === HvStatus.Success) {
          this.count(Counter.Vtl0EnableSuccess)
          this.control.addEnableWin(vp)
        } else if (status === HvStatus.AccessDenied) {
          this.count(Counter.Vtl0EnableDenied)
        } else {
          this.unexpected(vp, 'EnableVpVtl from VTL0', status)
        }
        return
      case 'enable-other':
        if (status === HvStatus.Success) {
          this.count(Counter.Vtl1EnableSuccess)
          this.control.addEnableWin(call.target)
        } else if (status === HvStatus.VtlAlreadyEnabled) {
          this.count(Counter.Vtl1EnableAlready)
        } else {
          this.unexpected(vp, 'EnableVpVtl from VTL1', status)
        }
        return
      case 'start':
        if (status === HvStatus.Success) {
          this.count(Counter.StartSuccess)
          this.control.addStartWin(call.target)
        } else if (status === HvStatus.InvalidVpState) {
          this.count(Counter.StartRefused)
        } else {
          this.unexpected(vp, `StartVirtualProcessor VTL${call.vtl}`, status)
        }
        return
      case 'protect':
        if (status !== HvStatus.Success) {
          this.count(Counter.ProtectRefused)
          this.unexpected(vp, 'ModifyVtlProtectionMask', status)
          return
        }
        this.ownVersion[vp] = call.version
        this.control.setAcknowledged(vp, call.version)
        this.count(Counter.ProtectSuccess)
        // The caller's own next access.
        this.access(vp, vp, false)
        return
      case 'vtl-call':
      case 'vtl-return':
        return
    }
  }

  private vtl0Action(vp: number, random: Random): VpExit {
    const { engine } = this
    if (engine.guestVsmState !== GuestVsmState.Enabled) {
      const input = encodeEnablePartitionVtl({
        partitionId: HV_PARTITION_ID_SELF,
        targetVtl: 1,
        flags: enablePartitionVtlFlags(),
      })
      return this.call(
        vp,
        { kind: 'enable-partition' },
        control(HypercallCode.EnablePartitionVtl),
        input
      )
    }
    const r = random.next()
    const cross = this.crossShare
    if (!this.triedSelfEnable[vp] || r < cross / 8) {
      this.triedSelfEnable[vp] = true
      // The first-enable race: VTL0 may enable VTL1 on itself only as the first VP.
      const input = encodeEnableVpVtl({
        partitionId: HV_PARTITION_ID_SELF,
        vpIndex: HV_VP_INDEX_SELF,
        targetVtl: 1,
        context: this.context(RIP_ENABLE, vp),
      })
      return this.call(vp, { kind: 'enable-self' }, control(HypercallCode.EnableVpVtl), input)
    }
    if (r < cross) return this.start(vp, this.other(vp, random), 0)
    if (r < cross + (1 - cross) / 2 && engine.vp(vp).vtl1 !== undefined) {
      return this.switchVtl(vp, VTL_CALL, 0x11n, 0n)
    }
    this.access(vp, random.int(engine.vpCount), random.next() < 0.5)
    return PREEMPTED
  }

  private vtl1Action(vp: number, random: Random): VpExit {
    const { engine } = this
    if (engine.shared.partitionField(PartitionField.Vtl1ProtectionsEnabled) === 0) {
      const input = encodeSetVpRegisters(
        { partitionId: HV_PARTITION_ID_SELF, vpIndex: HV_VP_INDEX_SELF, targetVtl: 0 },
        [{ name: HvRegisterName.VsmPartitionConfig, value: VSM_CONFIG }]
      )
      return this.call(vp, { kind: 'config' }, control(HypercallCode.SetVpRegisters, 1), input)
    }
    const r = random.next()
    const protect = this.protectShare
    const cross = this.crossShare
    if (r < protect) {
      // VTL1 changes VTL0's access to its own page; after the acknowledgement it reads it back.
      const version = (this.ownVersion[vp] ?? 0) + 1
      const input = encodeModifyVtlProtectionMask(
        { partitionId: HV_PARTITION_ID_SELF, mapFlags: flagsForVersion(version), targetVtl: 0 },
        [BigInt(protectionPage(vp))]
      )
      const word = control(HypercallCode.ModifyVtlProtectionMask, 1)
      return this.call(vp, { kind: 'protect', version }, word, input)
    }
    if (r < protect + cross / 2) {
      const target = this.other(vp, random)
      const input = encodeEnableVpVtl({
        partitionId: HV_PARTITION_ID_SELF,
        vpIndex: target,
        targetVtl: 1,
        context: this.context(RIP_ENABLE, target),
      })
      return this.call(
        vp,
        { kind: 'enable-other', target },
        control(HypercallCode.EnableVpVtl),
        input
      )
    }
    if (r < protect + cross) return this.start(vp, this.other(vp, random), 1)
    return this.switchVtl(vp, VTL_RETURN, 0x12n, 1n)
  }

  private start(vp: number, target: number, vtl: GuestVtl): VpExit {
    const input = encodeStartVirtualProcessor({
      partitionId: HV_PARTITION_ID_SELF,
      vpIndex: target,
      targetVtl: vtl,
      context: this.context(vtl === 0 ? RIP_START_VTL0 : RIP_START_VTL1, target),
    })
    const word = control(HypercallCode.StartVirtualProcessor)
    return this.call(vp, { kind: 'start', target, vtl }, word, input)
  }

  private unexpected(vp: number, call: string, status: HvStatusType): void {
    this.violation(`VP ${vp}: ${call} answered ${hvStatusName(status) ?? status}`)
  }

  /** After every worker stopped: drain wakes and report what each owned VP ended as. */
  finish(vp: number): VpOutcome {
    prepareEntry(this.engine, vp)
    this.prepared(vp)
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
