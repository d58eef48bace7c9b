import {
  GPA_VM_ATTR_FULL_ACCESS,
  formatHex,
  TdcallLeaf,
  TdxOperandId,
  TdxStatus,
  VmcsField,
  VmxExitBasic,
  VtlError,
  makeTdxStatus,
  sharedBitIndex,
  type L2VmIndex,
  type TdcallInput,
  type TdcallOutput,
  type TdxVmFlags,
} from '@vtl/core'
import {
  TD_CTLS_WRITABLE,
  checkWrite,
  fieldKey,
  fieldSlot,
  fieldSlotCount,
  isTdxFeatures0,
  slotSpec,
  vmFieldName,
  vmcsFieldSpec,
  vpFieldSpec,
  type FieldSpec,
} from './metadata-fields.js'
import {
  FREE_STATE,
  LEVEL_PAGES,
  PageKind,
  SecureEpt,
  viewOf,
  type Level,
  type PageState,
} from './secure-ept.js'
import { PageLeaves } from './page-leaves.js'
import { SUCCESS, fail, out } from './tdcall-output.js'
import type {
  OnEnter,
  PageAttrView,
  PreparedVpWr,
  SoftwareTdxModuleOptions,
  VpEnterExit,
  VpWrPort,
} from './types.js'

/** Operand id the module reports for a missing L2 virtual-APIC page (tdx-module OPERAND_ID_*). */
const OPERAND_ID_L2_VAPIC_GPA = 170

/** Per VP: the TDVPS fields that were written (everything else reads as its reset value). */
interface VpState {
  /** Written values by field slot (`FieldSpec.slot`); undefined = never written. */
  values: (bigint | undefined)[]
  /** How many slots of `values` are set. */
  fieldCount: number
  enters: number
  /** The last TDG.VP.ENTER (`entries().last`), kept as its parts: flags undefined = none yet. */
  lastFlags: TdxVmFlags | undefined
  lastGuestStateGpa: bigint
}

/** `PreparedVpWr` as this module makes it: the field spec resolved for its `numL2Vms`. */
interface PreparedVpWrField extends PreparedVpWr {
  readonly spec: FieldSpec | undefined
  readonly owner: SoftwareTdxModule
  /** `mask` is the field's writable low bits: a value inside them is a whole-field write. */
  readonly whole: boolean
}

const LEAF_VP_ENTER = TdcallLeaf['TDG.VP.ENTER']
const EVENT_VALID = 1n << 31n
/** Per L2 VM index: the field slot of its VMCS VM_ENTRY_INTERRUPT_INFO. */
const ENTRY_EVENT_SLOT = [1, 2, 3].reduce<(number | undefined)[]>(
  (slots, vm) => {
    slots[vm] = vmcsFieldSpec(vm, VmcsField.ENTRY_INTERRUPT_INFO)?.slot
    return slots
  },
  [undefined]
)
const LEAF_VP_WR = TdcallLeaf['TDG.VP.WR']
const LEAF_VP_RD = TdcallLeaf['TDG.VP.RD']

/**
 * The TDG.VP.ENTER RCX values without reserved bits, at index `vmIndex * 4 + invdTranslations`
 * (bits 1:0 invalidation, 53:52 VM index), and their flags — one shared object per value.
 */
const ENTER_RCX: readonly bigint[] = Array.from(
  { length: 16 },
  (_, i) => (BigInt(i >> 2) << 52n) | BigInt(i & 3)
)
const ENTER_FLAGS: readonly TdxVmFlags[] = Array.from({ length: 16 }, (_, i) =>
  Object.freeze({
    invdTranslations: (i & 3) as TdxVmFlags['invdTranslations'],
    vmIndex: (i >> 2) as L2VmIndex,
  })
)

const ENTER_VM1 = 1n << 52n
const ENTER_VM2 = 2n << 52n

/** `ENTER_RCX.indexOf(rcx)` by value: -1 when a reserved bit is set. */
function enterRcxIndex(rcx: bigint): number {
  // The entries of a VTL switch first: VM #1 or #2 without invalidation.
  if (rcx === ENTER_VM1) return 4
  if (rcx === ENTER_VM2) return 8
  for (let i = 0; i < 16; i++) if (ENTER_RCX[i] === rcx) return i
  return -1
}

/** RAX of an ordinary L2 exit (status 0) for the common exit reasons, built once. */
const EXIT_RAX: readonly bigint[] = Array.from({ length: 256 }, (_, r) => BigInt(r))

/**
 * The event a VM entry delivers (VM_ENTRY_INTERRUPT_INFO with its valid bit set), its valid bit
 * cleared as the entry does; undefined when there is none.
 */
function takeEntryEvent(state: VpState, vmIndex: number): bigint | undefined {
  const event = ENTRY_EVENT_SLOT[vmIndex]
  if (event === undefined) return undefined
  const info = state.values[event]
  if (info === undefined || (info & EVENT_VALID) === 0n) return undefined
  state.values[event] = info & ~EVENT_VALID
  return info
}

/** TDG.VP.ENTER's output registers for an L2 exit. */
function enterOutput(exit: VpEnterExit): TdcallOutput {
  const status = exit.tdxStatus ?? 0
  const reason = exit.exitReason >>> 0
  const output: TdcallOutput = {
    rax: status === 0 ? (EXIT_RAX[reason] ?? BigInt(reason)) : makeTdxStatus(status, reason),
    rcx: exit.exitQualification ?? 0n,
    rdx: exit.gla ?? 0n,
    r8: exit.gpa ?? 0n,
    r9: exit.interruptionInfo ?? 0n,
    r10: exit.idtVectoringInfo ?? 0n,
    r11: exit.instructionInfo ?? 0n,
  }
  if (exit.cpl !== undefined && exit.cpl !== 0) output.r12 = BigInt(exit.cpl & 3)
  return output
}

/** `{accepted, pending, level, vm1..3}` for one page. */
export type PageAttr = PageAttrView

/** Snapshot format of `SoftwareTdxModule.toJSON()` (bigints as `0x` hex strings). */
export interface SoftwareTdxModuleJson {
  version: 1
  vps: number
  gpaWidth: 48 | 52
  numL2Vms: 1 | 2 | 3
  tdxFeatures0: string
  configFlags: string
  tdCtls: string
  pageRelease: boolean
  requireVirtualApicPage: boolean
  /** Non-free Secure-EPT runs: [startGpn, endGpn, packedState]. */
  pages: [number, number, number][]
  /** Written TDVPS fields per VP: { vp: { key: hex } }, plus the entry count. */
  vpState: Record<string, { fields: Record<string, string>; enters: number }>
  invept: [number, number, number, number]
  invgla: [number, number, number, number]
}

/**
 * The TDX module at the TDCALL register level, for one TD with TD partitioning: L1 (the
 * paravisor) plus `numL2Vms` L2 VMs per VP. State is the Secure EPT (page runs, per-VM 16-bit
 * attributes), the TDVPS/VMCS fields per VP (created on first write), the TDCS fields and a few
 * counters — so a 1 TiB, 1024-VP TD costs a handful of objects until it is used.
 *
 * Host-side behaviour the module would trigger with a TD exit is modelled inline, as a KVM host
 * does it: ACCEPT of a page the host has not mapped yet maps it (lazy TDH.MEM.PAGE.AUG at the
 * requested level), and a request smaller than the leaf that holds the page demotes that leaf.
 */
export class SoftwareTdxModule implements VpWrPort {
  readonly vps: number
  readonly gpaWidth: 48 | 52
  readonly numL2Vms: 1 | 2 | 3
  /** Pages below the shared bit: the private GPA space the Secure EPT covers. */
  readonly privatePages: number
  readonly ept: SecureEpt
  private readonly tdxFeatures0: bigint
  private readonly configFlags: bigint
  private tdCtls: bigint
  private readonly pageRelease: boolean
  private readonly requireVirtualApicPage: boolean
  /** Per VP, created on first write or entry (undefined until then). */
  private readonly vpState: (VpState | undefined)[]
  private vpStateCount = 0
  /**
   * Some stored value has bits outside its field's writable low bits (only a restored snapshot
   * can bring one): whole-field writes then keep those bits as `writeVpField` does.
   */
  private wideValues = false
  /** `privatePages << 12`: the first GPA at or above the shared bit. */
  private readonly privateGpaLimit: bigint
  private readonly pages: PageLeaves
  /** TDG.VP.INVEPT / ATTR.WR-with-INVEPT flushes per VM index (0 unused). */
  readonly invept: [number, number, number, number] = [0, 0, 0, 0]
  /** TDG.VP.INVGLA calls per VM index. */
  readonly invgla: [number, number, number, number] = [0, 0, 0, 0]
  onEnter: OnEnter
  /**
   * The last frozen exit `onEnter` returned and its (frozen) output: a guest's constant exits
   * repeat (every VMCALL of a VTL round trip), and their output need not be built again.
   */
  private sharedExit: VpEnterExit | undefined
  private sharedOutput: TdcallOutput | undefined
  onPagesZeroed: ((gpn: number, pages: number) => void) | undefined
  onTdcall: ((vp: number, input: TdcallInput, output: TdcallOutput) => void) | undefined
  onTdcallStatus: ((vp: number, leaf: number, rax: bigint) => void) | undefined

  constructor(options: SoftwareTdxModuleOptions) {
    if (!Number.isSafeInteger(options.vps) || options.vps < 1 || options.vps > 4096) {
      throw new VtlError('E_FIELD_RANGE', `vps must be 1..4096, got ${options.vps}`, {
        field: 'vps',
      })
    }
    this.vps = options.vps
    this.vpState = new Array<VpState | undefined>(options.vps).fill(undefined)
    this.gpaWidth = options.gpaWidth ?? 48
    this.numL2Vms = options.numL2Vms ?? 2
    this.privatePages = 2 ** (sharedBitIndex(this.gpaWidth) - 12)
    this.privateGpaLimit = BigInt(this.privatePages) << 12n
    this.ept = new SecureEpt(this.privatePages)
    this.pages = new PageLeaves(this.ept, this.privatePages, this.numL2Vms, this.invept, (g, n) => {
      this.onPagesZeroed?.(g, n)
    })
    this.tdxFeatures0 = options.tdxFeatures0 ?? 0n
    this.pageRelease = options.pageRelease ?? false
    this.configFlags =
      (options.configFlags ?? 0n) |
      (this.gpaWidth === 52 ? 1n : 0n) |
      (this.pageRelease ? 1n << 6n : 0n)
    this.tdCtls = options.tdCtls ?? 0n
    this.requireVirtualApicPage = options.requireVirtualApicPage ?? true
    this.onEnter = options.onEnter ?? (() => ({ exitReason: VmxExitBasic.HLT }))
    this.onPagesZeroed = options.onPagesZeroed
    this.onTdcall = options.onTdcall
    this.onTdcallStatus = options.onTdcallStatus
    const attr = options.ramAttr ?? {}
    const state = {
      kind: PageKind.ACCEPTED,
      // VM #1 gets FULL_ACCESS (R|W|Xs|Xu|VALID) unless told otherwise.
      vm1: attr.vm1 ?? GPA_VM_ATTR_FULL_ACCESS,
      vm2: attr.vm2 ?? 0,
      vm3: attr.vm3 ?? 0,
    }
    for (const range of options.ram ?? []) {
      const start = Number(range.gpn)
      const end = start + Number(range.pages)
      if (start < 0 || end > this.privatePages || start > end) {
        throw new VtlError('E_FIELD_RANGE', 'ram range outside the private GPA space', {
          field: 'ram',
        })
      }
      this.mapAligned(start, end, range.level ?? options.ramLevel ?? 1, state)
    }
  }

  /** Maps `[start, end)` with `state` at the largest aligned levels up to `maxLevel`. */
  private mapAligned(start: number, end: number, maxLevel: Level, state: Omit<PageState, 'level'>) {
    let g = start
    while (g < end) {
      let level: Level = maxLevel
      while (level > 0 && (g % LEVEL_PAGES[level] !== 0 || g + LEVEL_PAGES[level] > end)) {
        level = (level - 1) as Level
      }
      // Consecutive chunks of one level go in one assignment.
      const size = LEVEL_PAGES[level]
      let e = g + size
      const limit = level === maxLevel ? end : g + size
      while (e + size <= limit) e += size
      this.ept.set(g, e, { ...state, level })
      g = e
    }
  }

  // ---- the TDCALL entry point ----

  tdcall(vp: number, input: TdcallInput): TdcallOutput {
    this.checkVp(vp)
    // TDG.VP.ENTER (every guest step) without the leaf dispatch.
    const output =
      input.leaf === LEAF_VP_ENTER ? this.enter(vp, input.rcx, input.rdx) : this.dispatch(vp, input)
    const observe = this.onTdcall
    if (observe !== undefined) observe(vp, input, output)
    return output
  }

  private dispatch(vp: number, i: TdcallInput): TdcallOutput {
    // The leaves of a context switch first (`tdcall` takes TDG.VP.ENTER before this).
    const leaf = i.leaf
    if (leaf === LEAF_VP_WR) return this.vpWr(vp, i.rdx, i.r8, i.r9)
    if (leaf === LEAF_VP_RD) return this.vpRd(vp, i.rdx)
    switch (leaf) {
      case TdcallLeaf['TDG.VP.INFO']:
        return out(SUCCESS, {
          rcx: BigInt(this.gpaWidth),
          r8: BigInt(this.vps) | (BigInt(this.vps) << 32n),
          r9: BigInt(vp),
        })
      case TdcallLeaf['TDG.MEM.PAGE.ACCEPT']:
        return this.pages.accept(i.rcx)
      case TdcallLeaf['TDG.VM.RD']:
        return this.vmRd(i.rdx)
      case TdcallLeaf['TDG.VM.WR']:
        return this.vmWr(i.rdx, i.r8, i.r9)
      case TdcallLeaf['TDG.SYS.RD']:
        return isTdxFeatures0(i.rdx)
          ? out(SUCCESS, { rdx: i.rdx, r8: this.tdxFeatures0 })
          : fail(TdxStatus.TDX_METADATA_FIELD_ID_INCORRECT, TdxOperandId.RDX)
      case TdcallLeaf['TDG.MEM.PAGE.ATTR.RD']:
        return this.pages.attrRd(i.rcx)
      case TdcallLeaf['TDG.MEM.PAGE.ATTR.WR']:
        return this.pages.attrWr(i.rcx, i.rdx, i.r8)
      case TdcallLeaf['TDG.VP.INVEPT']:
        return this.inveptCall(i.rcx)
      case TdcallLeaf['TDG.VP.INVGLA']:
        return this.invglaCall(i.rcx)
      case TdcallLeaf['TDG.MEM.PAGE.RELEASE']:
        return this.pageRelease ? this.pages.release(i.rcx) : fail(TdxStatus.TDX_OPERAND_INVALID)
      default:
        // Leaves this model does not implement (VMCALL included: host calls go through the
        // plan sink's host-visibility callback) fail like an unknown leaf: operand RAX.
        return fail(TdxStatus.TDX_OPERAND_INVALID, TdxOperandId.RAX)
    }
  }

  private checkVp(vp: number): void {
    // The throw is built apart: the check inlines into every TDCALL.
    if (!Number.isSafeInteger(vp) || vp < 0 || vp >= this.vps) vpOutside(vp, this.vps)
  }

  // ---- metadata: TDG.VP.RD/WR, TDG.VM.RD/WR ----

  private vp(vp: number): VpState {
    let state = this.vpState[vp]
    if (state === undefined) {
      state = {
        values: new Array<bigint | undefined>(fieldSlotCount()).fill(undefined),
        fieldCount: 0,
        enters: 0,
        lastFlags: undefined,
        lastGuestStateGpa: 0n,
      }
      this.vpState[vp] = state
      this.vpStateCount++
    }
    return state
  }

  private readField(vp: number, spec: FieldSpec): bigint {
    return this.vpState[vp]?.values[spec.slot] ?? spec.reset
  }

  private storeField(state: VpState, slot: number, value: bigint): void {
    if (state.values[slot] === undefined) state.fieldCount++
    state.values[slot] = value
  }

  private vpRd(vp: number, id: bigint): TdcallOutput {
    const spec = vpFieldSpec(id, this.numL2Vms)
    if (spec === undefined) return fail(TdxStatus.TDX_METADATA_FIELD_ID_INCORRECT, TdxOperandId.RDX)
    return {
      rax: SUCCESS,
      rcx: 0n,
      rdx: id,
      r8: this.readField(vp, spec),
      r9: 0n,
      r10: 0n,
      r11: 0n,
    }
  }

  private vpWr(vp: number, id: bigint, value: bigint, mask: bigint): TdcallOutput {
    const old = this.writeVpField(vp, vpFieldSpec(id, this.numL2Vms), value, mask)
    if (typeof old !== 'bigint') return old
    return { rax: SUCCESS, rcx: 0n, rdx: id, r8: old, r9: 0n, r10: 0n, r11: 0n }
  }

  prepareVpWr(id: bigint, mask: bigint): PreparedVpWrField {
    const spec = vpFieldSpec(id, this.numL2Vms)
    const whole = spec !== undefined && spec.lowMask && mask === spec.writable
    return { id, mask, spec, owner: this, whole }
  }

  /**
   * TDG.VP.WR on `vp` as `tdcall` runs it, answering only RAX, told to `onTdcallStatus`. A
   * `field` from this module's `prepareVpWr` carries its field spec (looked up there, once).
   */
  vpWrStatus(vp: number, field: PreparedVpWr, value: bigint): bigint {
    this.checkVp(vp)
    const prepared = field as Partial<PreparedVpWrField>
    let rax: bigint = SUCCESS
    if (prepared.owner === this && prepared.whole === true) {
      // A whole-field write as `writeVpField` does it, with the mask already compared.
      const spec = prepared.spec as FieldSpec
      const writable = spec.writable
      if (value >= 0n && value <= writable) {
        const state = this.vpState[vp]
        const old = state?.values[spec.slot] ?? spec.reset
        // Stored values stay inside their field unless a restored snapshot brought wider ones.
        const next =
          !this.wideValues || (old >= 0n && old <= writable) ? value : (old & ~writable) | value
        if (next !== old) this.storeField(state ?? this.vp(vp), spec.slot, next)
      } else {
        rax = this.vpWrRax(vp, spec, value, field.mask)
      }
    } else {
      const spec = prepared.owner === this ? prepared.spec : vpFieldSpec(field.id, this.numL2Vms)
      rax = this.vpWrRax(vp, spec, value, field.mask)
    }
    this.onTdcallStatus?.(vp, LEAF_VP_WR, rax)
    return rax
  }

  private vpWrRax(vp: number, spec: FieldSpec | undefined, value: bigint, mask: bigint): bigint {
    const old = this.writeVpField(vp, spec, value, mask)
    return typeof old === 'bigint' ? SUCCESS : old.rax
  }

  /** TDG.VP.WR's checks and write: the old value, or the failure's output registers. */
  private writeVpField(
    vp: number,
    spec: FieldSpec | undefined,
    value: bigint,
    mask: bigint
  ): bigint | TdcallOutput {
    if (spec === undefined) return fail(TdxStatus.TDX_METADATA_FIELD_ID_INCORRECT, TdxOperandId.RDX)
    const writable = spec.writable
    const old = this.readField(vp, spec)
    let next: bigint
    if (mask === writable && spec.lowMask && value >= 0n && value <= writable) {
      // A whole-field write (mask = the writable low bits, value inside them): it cannot fail,
      // and the result is the value when the old value is inside the field too.
      next = old >= 0n && old <= writable ? value : (old & ~writable) | value
    } else {
      const checked = checkWrite(old, writable, value, mask)
      if (checked !== undefined) return checked
      const bits = writable & mask
      next = (old & ~bits) | (value & bits)
    }
    if (next !== old) this.storeField(this.vp(vp), spec.slot, next)
    return old
  }

  private vmField(name: 'CONFIG_FLAGS' | 'TD_CTLS' | 'NUM_L2_VMS'): bigint {
    return name === 'CONFIG_FLAGS'
      ? this.configFlags
      : name === 'TD_CTLS'
        ? this.tdCtls
        : BigInt(this.numL2Vms)
  }

  private vmRd(id: bigint): TdcallOutput {
    const name = vmFieldName(id)
    if (name === undefined) return fail(TdxStatus.TDX_METADATA_FIELD_ID_INCORRECT, TdxOperandId.RDX)
    return out(SUCCESS, { rdx: id, r8: this.vmField(name) })
  }

  private vmWr(id: bigint, value: bigint, mask: bigint): TdcallOutput {
    const name = vmFieldName(id)
    if (name === undefined) return fail(TdxStatus.TDX_METADATA_FIELD_ID_INCORRECT, TdxOperandId.RDX)
    const writable = name === 'TD_CTLS' ? TD_CTLS_WRITABLE : 0n
    const old = this.vmField(name)
    const checked = checkWrite(old, writable, value, mask)
    if (checked !== undefined) return checked
    const bits = writable & mask
    this.tdCtls = (old & ~bits) | (value & bits)
    return out(SUCCESS, { rdx: id, r8: old })
  }

  // ---- TDG.VP.ENTER, INVEPT, INVGLA ----

  private enter(vp: number, rcx: bigint, rdx: bigint): TdcallOutput {
    // The common entry (RDX 0, a valid VM index, no virtual-APIC page to check) passes every check
    // below; any other goes through them in order (kept apart: this stays small enough to inline).
    if (rdx === 0n && !this.requireVirtualApicPage) {
      const index = enterRcxIndex(rcx)
      const vmIndex = index >> 2
      if (index >= 0 && vmIndex !== 0 && vmIndex <= this.numL2Vms) {
        return this.enterVm(vp, index, rdx)
      }
    }
    return this.enterChecked(vp, rcx, rdx)
  }

  private enterChecked(vp: number, rcx: bigint, rdx: bigint): TdcallOutput {
    // Checks in tdg_vp_enter's order. RDX: a 256-byte aligned private GPA (0 on the hot path).
    if (rdx !== 0n && !this.guestStateGpaValid(rdx)) {
      return fail(TdxStatus.TDX_OPERAND_INVALID, TdxOperandId.RDX)
    }
    // RCX: bits 1:0 invalidation, 53:52 VM index, the rest reserved.
    const index = enterRcxIndex(rcx)
    const vmIndex = index >> 2
    if (index < 0 || vmIndex === 0 || vmIndex > this.numL2Vms) {
      return fail(TdxStatus.TDX_OPERAND_INVALID, TdxOperandId.RCX)
    }
    if (this.requireVirtualApicPage && this.virtualApicPageMissing(vp, vmIndex)) {
      return fail(TdxStatus.TDX_OPERAND_INVALID, OPERAND_ID_L2_VAPIC_GPA)
    }
    return this.enterVm(vp, index, rdx)
  }

  /** The L2 entry once the operands passed (`index`: into `ENTER_FLAGS`). */
  private enterVm(vp: number, index: number, rdx: bigint): TdcallOutput {
    const flags = ENTER_FLAGS[index] as TdxVmFlags
    const vmIndex = flags.vmIndex
    if (flags.invdTranslations === 1) this.invept[vmIndex]++
    const state = this.vp(vp)
    const injected = takeEntryEvent(state, vmIndex)
    state.enters++
    state.lastFlags = flags
    state.lastGuestStateGpa = rdx
    const exit: VpEnterExit = this.onEnter(vp, flags.vmIndex, flags, rdx, injected)
    if (exit === this.sharedExit) return this.sharedOutput as TdcallOutput
    return this.exitOutput(exit)
  }

  /** (rdx >> 12 >= privatePages exactly when rdx >= privatePages << 12.) */
  private guestStateGpaValid(rdx: bigint): boolean {
    return (rdx & 0xffn) === 0n && rdx < this.privateGpaLimit
  }

  private virtualApicPageMissing(vp: number, vmIndex: number): boolean {
    const spec = vmcsFieldSpec(vmIndex, VmcsField.VIRTUAL_APIC_PAGE)
    return spec !== undefined && this.readField(vp, spec) === 0n
  }

  /** An exit's output; a frozen exit's (a guest's constant VMCALL or preemption) is kept. */
  private exitOutput(exit: VpEnterExit): TdcallOutput {
    const output = enterOutput(exit)
    if (Object.isFrozen(exit)) {
      this.sharedExit = exit
      this.sharedOutput = Object.freeze(output)
    }
    return output
  }

  private inveptCall(rcx: bigint): TdcallOutput {
    const allowed = ((1n << BigInt(this.numL2Vms + 1)) - 1n) & ~1n
    if ((rcx & ~allowed) !== 0n) return fail(TdxStatus.TDX_OPERAND_INVALID, TdxOperandId.RCX)
    for (let vm = 1; vm <= this.numL2Vms; vm++) {
      if ((rcx >> BigInt(vm)) & 1n) this.invept[vm] = (this.invept[vm] ?? 0) + 1
    }
    return out(SUCCESS)
  }

  private invglaCall(rcx: bigint): TdcallOutput {
    const reserved = rcx & ~(1n | (3n << 52n))
    const vmIndex = Number((rcx >> 52n) & 3n)
    if (reserved !== 0n || vmIndex === 0 || vmIndex > this.numL2Vms) {
      return fail(TdxStatus.TDX_OPERAND_INVALID, TdxOperandId.RCX)
    }
    this.invgla[vmIndex] = (this.invgla[vmIndex] ?? 0) + 1
    return out(SUCCESS)
  }

  // ---- host side (what KVM does through SEAMCALLs; not reachable by TDCALL) ----

  /**
   * TDH.MEM.PAGE.AUG of `[gpn, gpn + pages)` at the largest aligned levels up to `maxLevel`:
   * free pages become PENDING (mapped pages are left as they are).
   */
  hostAug(gpn: number, pages: number, maxLevel: Level = 1): void {
    const free: [number, number][] = []
    this.ept.forEachRun(gpn, gpn + pages, (s, e, st) => {
      if (st.kind === PageKind.FREE) free.push([s, e])
    })
    for (const [s, e] of free) {
      this.mapAligned(s, e, maxLevel, { kind: PageKind.PENDING, vm1: 0, vm2: 0, vm3: 0 })
    }
  }

  /**
   * TDH.MEM.PAGE.REMOVE of `[gpn, gpn + pages)`: the pages leave the Secure EPT. A leaf that
   * straddles either end is demoted first, as the host must before removing part of it.
   */
  hostRemove(gpn: number, pages: number): void {
    const end = gpn + pages
    for (const edge of [gpn, end - 1]) {
      const st = this.ept.stateAt(edge)
      if (st.kind === PageKind.FREE) continue
      const size = LEVEL_PAGES[st.level]
      const base = edge - (edge % size)
      if (base < gpn || base + size > end) this.ept.demote(edge, 0)
    }
    this.ept.set(gpn, end, FREE_STATE)
  }

  /**
   * The host's side of MapGPA (TDG.VP.VMCALL<MapGPA>): to shared, the private pages are removed
   * from the Secure EPT; to private, nothing yet — KVM maps private pages lazily when the guest
   * ACCEPTs them. Returns the GHCI status in R10 terms (0 = success).
   */
  hostMapGpa(gpn: number, pages: number, shared: boolean): bigint {
    if (shared) this.hostRemove(gpn, pages)
    return 0n
  }

  // ---- queries for tests, invariants and the TD assembly ----

  pageAttr(gpn: number | bigint): PageAttr {
    const page = Number(gpn)
    if (!Number.isSafeInteger(page) || page < 0 || page >= this.privatePages) {
      throw new VtlError('E_FIELD_RANGE', `GPN ${gpn} is outside the private GPA space`, {
        field: 'gpn',
      })
    }
    return viewOf(this.ept.stateAt(page))
  }

  /** Calls `fn(start, end, attr)` for each run of equal page state in `[start, end)`. */
  forEachAttrRun(
    start: number | bigint,
    end: number | bigint,
    fn: (start: number, end: number, attr: PageAttr) => unknown
  ): boolean {
    const s = Math.max(0, Number(start))
    const e = Math.min(this.privatePages, Number(end))
    return this.ept.forEachRun(s, e, (rs, re, st) => fn(rs, re, viewOf(st)))
  }

  /** A VMCS field of `vmIndex`'s VMCS on `vp`, by VMX encoding (undefined: not a known field). */
  vmcsRead(vp: number, vmIndex: L2VmIndex, encoding: number): bigint | undefined {
    this.checkVp(vp)
    const spec = vmcsFieldSpec(vmIndex, encoding)
    return spec === undefined ? undefined : this.readField(vp, spec)
  }

  /** Any TDVPS field by its TDG.VP.RD field id (undefined: not a known field). */
  vpFieldRead(vp: number, fieldId: bigint): bigint | undefined {
    this.checkVp(vp)
    const spec = vpFieldSpec(fieldId, this.numL2Vms)
    return spec === undefined ? undefined : this.readField(vp, spec)
  }

  /** TDG.VP.ENTER count and the last entry on `vp`. */
  entries(vp: number): {
    count: number
    last?: { vmIndex: L2VmIndex; flags: TdxVmFlags; guestStateGpa: bigint }
  } {
    this.checkVp(vp)
    const state = this.vpState[vp]
    if (state === undefined) return { count: 0 }
    const flags = state.lastFlags
    return flags === undefined
      ? { count: state.enters }
      : {
          count: state.enters,
          last: { vmIndex: flags.vmIndex, flags, guestStateGpa: state.lastGuestStateGpa },
        }
  }

  /** What the module holds: Secure-EPT runs, interned states, VPs with state, stored fields. */
  storageStats(): { pageRuns: number; pageStates: number; vpStates: number; fields: number } {
    let fields = 0
    for (const s of this.vpState) if (s !== undefined) fields += s.fieldCount
    return {
      pageRuns: this.ept.runCount,
      pageStates: this.ept.stateCount,
      vpStates: this.vpStateCount,
      fields,
    }
  }

  /**
   * Throws unless every mapped run is a union of whole aligned leaves of its level — the shape
   * the Secure EPT must keep. For tests and campaigns.
   */
  checkInvariants(): void {
    this.ept.forEachRun(0, this.privatePages, (s, e, st) => {
      if (st.kind === PageKind.FREE) return true
      const size = LEVEL_PAGES[st.level]
      if (s % size !== 0 || e % size !== 0) {
        throw new VtlError('E_INTERNAL', `pages ${s}..${e} split a level-${st.level} leaf`, {
          field: 'ept',
        })
      }
      return true
    })
  }

  // ---- save / restore ----

  toJSON(): SoftwareTdxModuleJson {
    const vpState: SoftwareTdxModuleJson['vpState'] = {}
    // Ascending VP order (the array's index order).
    for (const [vp, s] of this.vpState.entries()) {
      if (s === undefined) continue
      const fields: Record<string, string> = {}
      const stored: [string, bigint][] = []
      s.values.forEach((v, slot) => {
        if (v !== undefined) stored.push([fieldKey(slot), v])
      })
      for (const [k, v] of stored.sort((a, b) => (a[0] < b[0] ? -1 : 1))) fields[k] = formatHex(v)
      vpState[String(vp)] = { fields, enters: s.enters }
    }
    return {
      version: 1,
      vps: this.vps,
      gpaWidth: this.gpaWidth,
      numL2Vms: this.numL2Vms,
      tdxFeatures0: formatHex(this.tdxFeatures0),
      configFlags: formatHex(this.configFlags),
      tdCtls: formatHex(this.tdCtls),
      pageRelease: this.pageRelease,
      requireVirtualApicPage: this.requireVirtualApicPage,
      pages: this.ept.toRuns(),
      vpState,
      invept: [...this.invept],
      invgla: [...this.invgla],
    }
  }

  /**
   * Rebuilds a module from `toJSON()` output. Callbacks are not state: pass them again (the
   * `lastEnter` detail is not kept either; the entry count is).
   */
  static fromJSON(
    json: SoftwareTdxModuleJson,
    callbacks: Pick<
      SoftwareTdxModuleOptions,
      'onEnter' | 'onPagesZeroed' | 'onTdcall' | 'onTdcallStatus'
    > = {}
  ): SoftwareTdxModule {
    if ((json.version as number) !== 1) {
      throw new VtlError(
        'E_INVALID_VALUE',
        `unknown module snapshot version ${String(json.version)}`,
        {
          field: 'version',
        }
      )
    }
    const module = new SoftwareTdxModule({
      vps: json.vps,
      gpaWidth: json.gpaWidth,
      numL2Vms: json.numL2Vms,
      tdxFeatures0: BigInt(json.tdxFeatures0),
      configFlags: BigInt(json.configFlags),
      tdCtls: BigInt(json.tdCtls),
      pageRelease: json.pageRelease,
      requireVirtualApicPage: json.requireVirtualApicPage,
      ...callbacks,
    })
    module.ept.loadRuns(json.pages)
    for (const [vp, s] of Object.entries(json.vpState)) {
      const state = module.vp(Number(vp))
      state.enters = s.enters
      for (const [k, v] of Object.entries(s.fields)) {
        const slot = fieldSlot(k)
        const value = BigInt(v)
        // A field without a spec yet may get one whose bits the value exceeds: assume it does.
        const spec = slotSpec(slot)
        if (spec === undefined || (spec.lowMask && !(value >= 0n && value <= spec.writable))) {
          module.wideValues = true
        }
        module.storeField(state, slot, value)
      }
    }
    json.invept.forEach((n, i) => (module.invept[i] = n))
    json.invgla.forEach((n, i) => (module.invgla[i] = n))
    return module
  }
}

function vpOutside(vp: number, vps: number): never {
  throw new VtlError('E_FIELD_RANGE', `VP ${vp} is outside 0..${vps - 1}`, { field: 'vp' })
}
