import {
  GpaVmAttr,
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
  isTdxFeatures0,
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
import type {
  OnEnter,
  PageAttrView,
  SoftwareTdxModuleOptions,
  TdcallPort,
  VpEnterExit,
} from './types.js'

const U64 = 0xffff_ffff_ffff_ffffn
/** L1's own slot as ATTR.RD/WR report it for an accepted page: the L1 SEPT entry is RWX. */
const L1_ACCEPTED_ATTR = 0x800f
/** GPA_ATTR bits a guest may set per slot (TDX module `GUEST_L2_GPA_ATTR_MASK`). */
const LEGAL_ATTR_BITS = 0x807f
const PRESENT_BITS = GpaVmAttr.R | GpaVmAttr.W | GpaVmAttr.Xs | GpaVmAttr.Xu
/** Operand id the module reports for a missing L2 virtual-APIC page (tdx-module OPERAND_ID_*). */
const OPERAND_ID_L2_VAPIC_GPA = 170
/** ATTR.RD / ATTR.WR output RCX bit 62. */
const PENDING_BIT = 1n << 62n

function out(rax: bigint, regs: Partial<Omit<TdcallOutput, 'rax'>> = {}): TdcallOutput {
  return {
    rax,
    rcx: regs.rcx ?? 0n,
    rdx: regs.rdx ?? 0n,
    r8: regs.r8 ?? 0n,
    r9: regs.r9 ?? 0n,
    r10: regs.r10 ?? 0n,
    r11: regs.r11 ?? 0n,
  }
}

function fail(code: number, operand: number = 0): TdcallOutput {
  return out(makeTdxStatus(code, operand))
}

const OK = (): bigint => 0n

/** Per VP: the TDVPS fields that were written (everything else reads as its reset value). */
interface VpState {
  fields: Map<string, bigint>
  enters: number
  lastEnter?: { vmIndex: L2VmIndex; flags: TdxVmFlags; guestStateGpa: bigint }
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

const hex = (v: bigint): string => `0x${v.toString(16)}`

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
export class SoftwareTdxModule implements TdcallPort {
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
  private readonly vpState = new Map<number, VpState>()
  /** TDG.VP.INVEPT / ATTR.WR-with-INVEPT flushes per VM index (0 unused). */
  readonly invept: [number, number, number, number] = [0, 0, 0, 0]
  /** TDG.VP.INVGLA calls per VM index. */
  readonly invgla: [number, number, number, number] = [0, 0, 0, 0]
  onEnter: OnEnter
  onPagesZeroed: ((gpn: number, pages: number) => void) | undefined
  onTdcall: ((vp: number, input: TdcallInput, output: TdcallOutput) => void) | undefined

  constructor(options: SoftwareTdxModuleOptions) {
    if (!Number.isSafeInteger(options.vps) || options.vps < 1 || options.vps > 4096) {
      throw new VtlError('E_FIELD_RANGE', `vps must be 1..4096, got ${options.vps}`, {
        field: 'vps',
      })
    }
    this.vps = options.vps
    this.gpaWidth = options.gpaWidth ?? 48
    this.numL2Vms = options.numL2Vms ?? 2
    this.privatePages = 2 ** (sharedBitIndex(this.gpaWidth) - 12)
    this.ept = new SecureEpt(this.privatePages)
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
    const attr = options.ramAttr ?? {}
    const state = {
      kind: PageKind.ACCEPTED,
      vm1: attr.vm1 ?? L1_ACCEPTED_ATTR,
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
    const output = this.dispatch(vp, input)
    this.onTdcall?.(vp, input, output)
    return output
  }

  private dispatch(vp: number, i: TdcallInput): TdcallOutput {
    switch (i.leaf) {
      case TdcallLeaf['TDG.VP.INFO']:
        return out(OK(), {
          rcx: BigInt(this.gpaWidth),
          r8: BigInt(this.vps) | (BigInt(this.vps) << 32n),
          r9: BigInt(vp),
        })
      case TdcallLeaf['TDG.MEM.PAGE.ACCEPT']:
        return this.accept(i.rcx)
      case TdcallLeaf['TDG.VM.RD']:
        return this.vmRd(i.rdx)
      case TdcallLeaf['TDG.VM.WR']:
        return this.vmWr(i.rdx, i.r8, i.r9)
      case TdcallLeaf['TDG.VP.RD']:
        return this.vpRd(vp, i.rdx)
      case TdcallLeaf['TDG.VP.WR']:
        return this.vpWr(vp, i.rdx, i.r8, i.r9)
      case TdcallLeaf['TDG.SYS.RD']:
        return isTdxFeatures0(i.rdx)
          ? out(OK(), { rdx: i.rdx, r8: this.tdxFeatures0 })
          : fail(TdxStatus.TDX_METADATA_FIELD_ID_INCORRECT, TdxOperandId.RDX)
      case TdcallLeaf['TDG.MEM.PAGE.ATTR.RD']:
        return this.attrRd(i.rcx)
      case TdcallLeaf['TDG.MEM.PAGE.ATTR.WR']:
        return this.attrWr(i.rcx, i.rdx, i.r8)
      case TdcallLeaf['TDG.VP.ENTER']:
        return this.enter(vp, i.rcx, i.rdx)
      case TdcallLeaf['TDG.VP.INVEPT']:
        return this.inveptCall(i.rcx)
      case TdcallLeaf['TDG.VP.INVGLA']:
        return this.invglaCall(i.rcx)
      case TdcallLeaf['TDG.MEM.PAGE.RELEASE']:
        return this.pageRelease ? this.release(i.rcx) : fail(TdxStatus.TDX_OPERAND_INVALID)
      default:
        // Leaves this model does not implement (VMCALL included: host calls go through the
        // plan sink's host-visibility callback) fail like an unknown leaf: operand RAX.
        return fail(TdxStatus.TDX_OPERAND_INVALID, TdxOperandId.RAX)
    }
  }

  private checkVp(vp: number): void {
    if (!Number.isSafeInteger(vp) || vp < 0 || vp >= this.vps) {
      throw new VtlError('E_FIELD_RANGE', `VP ${vp} is outside 0..${this.vps - 1}`, {
        field: 'vp',
      })
    }
  }

  // ---- GPA operands ----

  /**
   * RCX of ACCEPT / ATTR.WR / RELEASE: level ≤ maxLevel, reserved bits clear, GPN aligned and
   * private (below the shared bit). Undefined means TDX_OPERAND_INVALID on RCX.
   */
  private mapping(rcx: bigint, maxLevel: Level): { page: number; level: Level } | undefined {
    const level = Number(rcx & 7n)
    if (level > maxLevel) return undefined
    if ((rcx & 0xff8n) !== 0n || rcx >> 52n !== 0n) return undefined
    const gpn = rcx >> 12n
    if (gpn >= BigInt(this.privatePages)) return undefined
    const page = Number(gpn)
    if (page % LEVEL_PAGES[level as Level] !== 0) return undefined
    return { page, level: level as Level }
  }

  // ---- TDG.MEM.PAGE.ACCEPT ----

  private accept(rcx: bigint): TdcallOutput {
    // The module accepts 4 KiB and 2 MiB only (verify_page_info_input(…, LVL_PT, LVL_PD)).
    const m = this.mapping(rcx, 1)
    if (m === undefined) return fail(TdxStatus.TDX_OPERAND_INVALID, TdxOperandId.RCX)
    const { page, level } = m
    let shape = this.ept.shape(page, level)
    if (shape.kind === 'larger') {
      // A guest-accessible larger leaf: already accepted, reported at the leaf's level.
      if (shape.state.kind === PageKind.ACCEPTED) {
        return fail(TdxStatus.TDX_PAGE_ALREADY_ACCEPTED, shape.state.level)
      }
      // A larger pending leaf: EPT-violation TD exit, the host demotes, the guest retries.
      this.ept.demote(page, level)
      shape = this.ept.shape(page, level)
    }
    if (shape.kind === 'smaller') return fail(TdxStatus.TDX_PAGE_SIZE_MISMATCH, level)
    const size = LEVEL_PAGES[level]
    if (shape.kind === 'free') {
      // Not mapped: EPT-violation TD exit, the host AUGs the page at the requested size.
      this.ept.set(page, page + size, { ...FREE_STATE, kind: PageKind.PENDING, level })
    } else if (shape.kind === 'exact' && shape.state.kind === PageKind.ACCEPTED) {
      return fail(TdxStatus.TDX_PAGE_ALREADY_ACCEPTED, level)
    }
    // PENDING → MAPPED. L2 aliases written while pending stay; fresh pages have none.
    this.ept.update(page, page + size, (s) => ({ ...s, kind: PageKind.ACCEPTED, level }))
    this.onPagesZeroed?.(page, size)
    return out(OK())
  }

  // ---- TDG.MEM.PAGE.RELEASE (TDX Connect) ----

  private release(rcx: bigint): TdcallOutput {
    const m = this.mapping(rcx, 2)
    if (m === undefined) return fail(TdxStatus.TDX_OPERAND_INVALID, TdxOperandId.RCX)
    const shaped = this.leafAt(m.page, m.level)
    if ('status' in shaped) return shaped.status
    if (shaped.state.kind !== PageKind.ACCEPTED) {
      return fail(TdxStatus.TDX_EPT_ENTRY_STATE_INCORRECT, TdxOperandId.RCX)
    }
    this.ept.set(m.page, m.page + LEVEL_PAGES[m.level], FREE_STATE)
    return out(OK(), { rcx: (BigInt(m.page) << 12n) | BigInt(m.level) })
  }

  /**
   * The leaf entry for an ATTR.WR / RELEASE at `level`: demotes a larger leaf (the host's answer
   * to the EPT-violation TD exit), refuses smaller mappings with PAGE_SIZE_MISMATCH (details =
   * the level, as the module reports), and refuses an unmapped block with TDX_EPT_WALK_FAILED
   * (the module would TD-exit to a host that, here, maps nothing on ATTR.* requests).
   */
  private leafAt(page: number, level: Level): { state: PageState } | { status: TdcallOutput } {
    let shape = this.ept.shape(page, level)
    if (shape.kind === 'larger') {
      this.ept.demote(page, level)
      shape = this.ept.shape(page, level)
    }
    if (shape.kind === 'smaller') return { status: fail(TdxStatus.TDX_PAGE_SIZE_MISMATCH, level) }
    if (shape.kind === 'free') {
      return { status: fail(TdxStatus.TDX_EPT_WALK_FAILED, TdxOperandId.RCX) }
    }
    return { state: shape.state }
  }

  // ---- TDG.MEM.PAGE.ATTR.RD / WR ----

  private l1Attr(state: PageState): number {
    return state.kind === PageKind.ACCEPTED ? L1_ACCEPTED_ATTR : 0
  }

  private packAttrs(l1: number, vm: readonly number[]): bigint {
    return (
      BigInt(l1) |
      (BigInt(vm[1] ?? 0) << 16n) |
      (BigInt(vm[2] ?? 0) << 32n) |
      (BigInt(vm[3] ?? 0) << 48n)
    )
  }

  private attrRd(rcx: bigint): TdcallOutput {
    // Bits 11:0 are ignored (the output GPA is aligned to the leaf), as tdg_mem_page_attr_rd does.
    if (rcx >> 52n !== 0n || rcx >> 12n >= BigInt(this.privatePages)) {
      return fail(TdxStatus.TDX_OPERAND_INVALID, TdxOperandId.RCX)
    }
    const page = Number(rcx >> 12n)
    const s = this.ept.stateAt(page)
    if (s.kind === PageKind.FREE) return fail(TdxStatus.TDX_EPT_WALK_FAILED, TdxOperandId.RCX)
    // The mapping's own GPA: the page aligned down to its leaf level.
    const base = page - (page % LEVEL_PAGES[s.level])
    return out(OK(), {
      rcx:
        (BigInt(base) << 12n) | BigInt(s.level) | (s.kind === PageKind.PENDING ? PENDING_BIT : 0n),
      rdx: this.packAttrs(this.l1Attr(s), [0, s.vm1, s.vm2, s.vm3]),
    })
  }

  /**
   * ATTR.WR as tdg_mem_page_attr_wr does it: operand checks (slot 0 and absent VMs must be 0 in
   * RDX and R8; a slot with VALID = 0 must be all 0), the leaf walk, then per VM: a slot whose
   * new value has VALID = 0 is left alone; otherwise new = (old & ~mask) | (value & mask) with
   * VALID always taken from the value; a result with no R/W/Xs/Xu removes the alias; an illegal
   * result fails the whole call with TDX_PAGE_ATTR_INVALID, RCX = 0 and RDX = current attributes.
   */
  private attrWr(rcx: bigint, rdx: bigint, r8: bigint): TdcallOutput {
    const value = [0, 0, 0, 0]
    const mask = [0, 0, 0, 0]
    for (let vm = 0; vm < 4; vm++) {
      value[vm] = Number((rdx >> BigInt(16 * vm)) & 0xffffn)
      mask[vm] = Number((r8 >> BigInt(16 * vm)) & 0xffffn)
      const exists = vm >= 1 && vm <= this.numL2Vms
      if (!exists) {
        if (value[vm] !== 0) return fail(TdxStatus.TDX_OPERAND_INVALID, TdxOperandId.RDX)
        if (mask[vm] !== 0) return fail(TdxStatus.TDX_OPERAND_INVALID, TdxOperandId.R8)
      } else if (value[vm] !== 0 && ((value[vm] ?? 0) & GpaVmAttr.VALID) === 0) {
        return fail(TdxStatus.TDX_OPERAND_INVALID, TdxOperandId.RDX)
      }
    }
    const m = this.mapping(rcx, 2)
    if (m === undefined) return fail(TdxStatus.TDX_OPERAND_INVALID, TdxOperandId.RCX)
    const shaped = this.leafAt(m.page, m.level)
    if ('status' in shaped) return shaped.status
    const cur = [0, shaped.state.vm1, shaped.state.vm2, shaped.state.vm3]
    const result = [...cur]
    const reported = [...cur]
    let invalid = false
    for (let vm = 1; vm <= this.numL2Vms; vm++) {
      const m15 = ((mask[vm] ?? 0) & 0x7fff) | GpaVmAttr.VALID
      const masked = (value[vm] ?? 0) & m15
      if ((masked & GpaVmAttr.VALID) === 0) continue
      const old = cur[vm] ?? 0
      const aliased = (old & GpaVmAttr.VALID) !== 0
      const next = aliased ? (old & ~m15) | masked : masked
      if ((next & PRESENT_BITS) !== 0 && !legalAttr(next)) {
        invalid = true
        reported[vm] = aliased ? old : 0
        continue
      }
      if ((next & PRESENT_BITS) === 0) {
        // No access left: the alias is removed; the output shows VALID alone.
        result[vm] = 0
        reported[vm] = GpaVmAttr.VALID
      } else {
        result[vm] = next
        reported[vm] = next
      }
    }
    const l1 = this.l1Attr(shaped.state)
    if (invalid) {
      return out(makeTdxStatus(TdxStatus.TDX_PAGE_ATTR_INVALID), {
        rdx: this.packAttrs(l1, reported),
      })
    }
    const size = LEVEL_PAGES[m.level]
    this.ept.update(m.page, m.page + size, (s) => ({
      ...s,
      vm1: result[1] ?? 0,
      vm2: result[2] ?? 0,
      vm3: result[3] ?? 0,
    }))
    for (let vm = 1; vm <= this.numL2Vms; vm++) {
      if (((mask[vm] ?? 0) & 0x8000) !== 0) this.invept[vm] = (this.invept[vm] ?? 0) + 1
    }
    return out(OK(), {
      rcx: rcx | (shaped.state.kind === PageKind.PENDING ? PENDING_BIT : 0n),
      rdx: this.packAttrs(l1, reported),
    })
  }

  // ---- metadata: TDG.VP.RD/WR, TDG.VM.RD/WR ----

  private vp(vp: number): VpState {
    let state = this.vpState.get(vp)
    if (state === undefined) {
      state = { fields: new Map(), enters: 0 }
      this.vpState.set(vp, state)
    }
    return state
  }

  private readField(vp: number, spec: FieldSpec): bigint {
    return this.vpState.get(vp)?.fields.get(spec.key) ?? spec.reset
  }

  private vpRd(vp: number, id: bigint): TdcallOutput {
    const spec = vpFieldSpec(id, this.numL2Vms)
    if (spec === undefined) return fail(TdxStatus.TDX_METADATA_FIELD_ID_INCORRECT, TdxOperandId.RDX)
    return out(OK(), { rdx: id, r8: this.readField(vp, spec) })
  }

  private vpWr(vp: number, id: bigint, value: bigint, mask: bigint): TdcallOutput {
    const spec = vpFieldSpec(id, this.numL2Vms)
    if (spec === undefined) return fail(TdxStatus.TDX_METADATA_FIELD_ID_INCORRECT, TdxOperandId.RDX)
    const old = this.readField(vp, spec)
    const checked = checkWrite(old, spec.writable, value, mask)
    if (checked !== undefined) return checked
    const bits = spec.writable & mask
    const next = (old & ~bits) | (value & bits)
    if (next !== old) this.vp(vp).fields.set(spec.key, next)
    return out(OK(), { rdx: id, r8: old })
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
    return out(OK(), { rdx: id, r8: this.vmField(name) })
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
    return out(OK(), { rdx: id, r8: old })
  }

  // ---- TDG.VP.ENTER, INVEPT, INVGLA ----

  private enter(vp: number, rcx: bigint, rdx: bigint): TdcallOutput {
    // Checks in tdg_vp_enter's order. RDX: a 256-byte aligned private GPA.
    if ((rdx & 0xffn) !== 0n || rdx >> 12n >= BigInt(this.privatePages)) {
      return fail(TdxStatus.TDX_OPERAND_INVALID, TdxOperandId.RDX)
    }
    // RCX: bits 1:0 invalidation, 53:52 VM index, the rest reserved.
    const reserved = rcx & ~(3n | (3n << 52n))
    const vmIndex = Number((rcx >> 52n) & 3n)
    if (reserved !== 0n || vmIndex === 0 || vmIndex > this.numL2Vms) {
      return fail(TdxStatus.TDX_OPERAND_INVALID, TdxOperandId.RCX)
    }
    if (this.requireVirtualApicPage) {
      const spec = vmcsFieldSpec(vmIndex, VmcsField.VIRTUAL_APIC_PAGE)
      if (spec !== undefined && this.readField(vp, spec) === 0n) {
        return fail(TdxStatus.TDX_OPERAND_INVALID, OPERAND_ID_L2_VAPIC_GPA)
      }
    }
    const flags: TdxVmFlags = {
      invdTranslations: Number(rcx & 3n) as TdxVmFlags['invdTranslations'],
      vmIndex: vmIndex as L2VmIndex,
    }
    if (flags.invdTranslations === 1) this.invept[vmIndex] = (this.invept[vmIndex] ?? 0) + 1
    const state = this.vp(vp)
    state.enters++
    state.lastEnter = { vmIndex: flags.vmIndex, flags, guestStateGpa: rdx }
    const exit: VpEnterExit = this.onEnter(vp, flags.vmIndex, flags, rdx)
    const status = exit.tdxStatus ?? 0
    return out(makeTdxStatus(status, exit.exitReason >>> 0), {
      rcx: exit.exitQualification ?? 0n,
      rdx: exit.gla ?? 0n,
      r8: exit.gpa ?? 0n,
      r9: exit.interruptionInfo ?? 0n,
      r10: exit.idtVectoringInfo ?? 0n,
      r11: exit.instructionInfo ?? 0n,
    })
  }

  private inveptCall(rcx: bigint): TdcallOutput {
    const allowed = ((1n << BigInt(this.numL2Vms + 1)) - 1n) & ~1n
    if ((rcx & ~allowed) !== 0n) return fail(TdxStatus.TDX_OPERAND_INVALID, TdxOperandId.RCX)
    for (let vm = 1; vm <= this.numL2Vms; vm++) {
      if ((rcx >> BigInt(vm)) & 1n) this.invept[vm] = (this.invept[vm] ?? 0) + 1
    }
    return out(OK())
  }

  private invglaCall(rcx: bigint): TdcallOutput {
    const reserved = rcx & ~(1n | (3n << 52n))
    const vmIndex = Number((rcx >> 52n) & 3n)
    if (reserved !== 0n || vmIndex === 0 || vmIndex > this.numL2Vms) {
      return fail(TdxStatus.TDX_OPERAND_INVALID, TdxOperandId.RCX)
    }
    this.invgla[vmIndex] = (this.invgla[vmIndex] ?? 0) + 1
    return out(OK())
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

  /** L2_CTLS.ENABLE_SHARED_EPTP of `vmIndex` on `vp`: may that L2 VM reach shared GPAs? */
  sharedEptEnabled(vp: number, vmIndex: L2VmIndex): boolean {
    this.checkVp(vp)
    const key = `g:${0x50 + vmIndex}`
    return ((this.vpState.get(vp)?.fields.get(key) ?? 0n) & 1n) === 1n
  }

  /**
   * Whether L2 VM `vmIndex` on `vp` may make an access at `gpa` — the check the hardware does on
   * an L2 access, for guest runners: a shared GPA needs the VM's shared EPT; a private one needs
   * an accepted page whose alias grants the access (R, W, Xs for kernel / Xu for user execute).
   */
  checkAccess(
    vp: number,
    vmIndex: L2VmIndex,
    gpa: bigint,
    access: 'read' | 'write' | 'execute' | 'execute-user'
  ): { ok: true } | { ok: false; reason: 'shared-ept-disabled' | 'not-accepted' | 'denied' } {
    const shared = 1n << BigInt(sharedBitIndex(this.gpaWidth))
    if ((gpa & shared) !== 0n) {
      return this.sharedEptEnabled(vp, vmIndex)
        ? { ok: true }
        : { ok: false, reason: 'shared-ept-disabled' }
    }
    const page = Number((gpa & U64) >> 12n)
    if (page >= this.privatePages) return { ok: false, reason: 'not-accepted' }
    const s = this.ept.stateAt(page)
    if (s.kind !== PageKind.ACCEPTED) return { ok: false, reason: 'not-accepted' }
    const attr = vmIndex === 1 ? s.vm1 : vmIndex === 2 ? s.vm2 : s.vm3
    const need =
      access === 'read'
        ? GpaVmAttr.R
        : access === 'write'
          ? GpaVmAttr.W
          : access === 'execute'
            ? GpaVmAttr.Xs
            : GpaVmAttr.Xu
    return (attr & GpaVmAttr.VALID) !== 0 && (attr & need) !== 0
      ? { ok: true }
      : { ok: false, reason: 'denied' }
  }

  /** TDG.VP.ENTER count and the last entry on `vp`. */
  entries(vp: number): {
    count: number
    last?: { vmIndex: L2VmIndex; flags: TdxVmFlags; guestStateGpa: bigint }
  } {
    this.checkVp(vp)
    const state = this.vpState.get(vp)
    if (state === undefined) return { count: 0 }
    return state.lastEnter === undefined
      ? { count: state.enters }
      : { count: state.enters, last: state.lastEnter }
  }

  /** What the module holds: Secure-EPT runs, interned states, VPs with state, stored fields. */
  storageStats(): { pageRuns: number; pageStates: number; vpStates: number; fields: number } {
    let fields = 0
    for (const s of this.vpState.values()) fields += s.fields.size
    return {
      pageRuns: this.ept.runCount,
      pageStates: this.ept.stateCount,
      vpStates: this.vpState.size,
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
    for (const [vp, s] of [...this.vpState].sort((a, b) => a[0] - b[0])) {
      const fields: Record<string, string> = {}
      for (const [k, v] of [...s.fields].sort((a, b) => (a[0] < b[0] ? -1 : 1))) fields[k] = hex(v)
      vpState[String(vp)] = { fields, enters: s.enters }
    }
    return {
      version: 1,
      vps: this.vps,
      gpaWidth: this.gpaWidth,
      numL2Vms: this.numL2Vms,
      tdxFeatures0: hex(this.tdxFeatures0),
      configFlags: hex(this.configFlags),
      tdCtls: hex(this.tdCtls),
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
    callbacks: Pick<SoftwareTdxModuleOptions, 'onEnter' | 'onPagesZeroed' | 'onTdcall'> = {}
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
      for (const [k, v] of Object.entries(s.fields)) state.fields.set(k, BigInt(v))
    }
    json.invept.forEach((n, i) => (module.invept[i] = n))
    json.invgla.forEach((n, i) => (module.invgla[i] = n))
    return module
  }
}

/** Legal combined L2 attributes: only guest-settable bits, and no write without read (EPT). */
function legalAttr(attr: number): boolean {
  if ((attr & ~LEGAL_ATTR_BITS) !== 0) return false
  return !((attr & GpaVmAttr.W) !== 0 && (attr & GpaVmAttr.R) === 0)
}

/**
 * Metadata write checks as the module's md_*_write_element does them: the bits written are
 * `writable & mask`; none → TDX_METADATA_FIELD_NOT_WRITABLE (RDX). Mask bits over bits the guest
 * may not write (read-only bits, or bits beyond the field's width) must carry the current value,
 * else TDX_METADATA_FIELD_VALUE_NOT_VALID (R8) — so an all-ones mask works on any field as long
 * as the value leaves those bits as they are.
 */
function checkWrite(
  old: bigint,
  writable: bigint,
  value: bigint,
  mask: bigint
): TdcallOutput | undefined {
  if ((writable & mask) === 0n) {
    return fail(TdxStatus.TDX_METADATA_FIELD_NOT_WRITABLE, TdxOperandId.RDX)
  }
  const forbidden = mask & ~writable
  if ((old & forbidden) !== (value & forbidden)) {
    return fail(TdxStatus.TDX_METADATA_FIELD_VALUE_NOT_VALID, TdxOperandId.R8)
  }
  return undefined
}
