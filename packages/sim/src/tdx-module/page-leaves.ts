import {
  GPA_VM_ATTR_FULL_ACCESS,
  GUEST_L2_GPA_ATTR_MASK,
  GpaVmAttr,
  TdxOperandId,
  TdxStatus,
  makeTdxStatus,
  type TdcallOutput,
} from '@vtl/core'
import {
  FREE_STATE,
  LEVEL_PAGES,
  PageKind,
  type Level,
  type PageState,
  type SecureEpt,
} from './secure-ept.js'
import { SUCCESS, fail, out } from './tdcall-output.js'

const PRESENT_BITS = GpaVmAttr.R | GpaVmAttr.W | GpaVmAttr.Xs | GpaVmAttr.Xu
/** ATTR.RD / ATTR.WR output RCX bit 62. */
const PENDING_BIT = 1n << 62n

/**
 * The Secure-EPT leaves of the module — TDG.MEM.PAGE.ACCEPT, RELEASE, ATTR.RD and ATTR.WR — as
 * tdg_mem_page_accept.c and tdg_mem_page_attr_{rd,wr}.c do them, over the page runs of a
 * `SecureEpt`. Host reactions to the TD exits these leaves can cause (AUG on ACCEPT, DEMOTE on a
 * too-small request) are applied inline.
 */
export class PageLeaves {
  constructor(
    private readonly ept: SecureEpt,
    private readonly privatePages: number,
    private readonly numL2Vms: number,
    /** Flush counters per VM index, shared with the module. */
    private readonly invept: number[],
    private readonly zeroed: (gpn: number, pages: number) => void
  ) {}

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

  accept(rcx: bigint): TdcallOutput {
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
    this.zeroed(page, size)
    return out(SUCCESS)
  }

  // ---- TDG.MEM.PAGE.RELEASE (TDX Connect) ----

  release(rcx: bigint): TdcallOutput {
    const m = this.mapping(rcx, 2)
    if (m === undefined) return fail(TdxStatus.TDX_OPERAND_INVALID, TdxOperandId.RCX)
    const shaped = this.leafAt(m.page, m.level)
    if ('status' in shaped) return shaped.status
    if (shaped.state.kind !== PageKind.ACCEPTED) {
      return fail(TdxStatus.TDX_EPT_ENTRY_STATE_INCORRECT, TdxOperandId.RCX)
    }
    this.ept.set(m.page, m.page + LEVEL_PAGES[m.level], FREE_STATE)
    return out(SUCCESS, { rcx: (BigInt(m.page) << 12n) | BigInt(m.level) })
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
    return state.kind === PageKind.ACCEPTED ? GPA_VM_ATTR_FULL_ACCESS : 0
  }

  private packAttrs(l1: number, vm: readonly number[]): bigint {
    return (
      BigInt(l1) |
      (BigInt(vm[1] ?? 0) << 16n) |
      (BigInt(vm[2] ?? 0) << 32n) |
      (BigInt(vm[3] ?? 0) << 48n)
    )
  }

  attrRd(rcx: bigint): TdcallOutput {
    // Bits 11:0 are ignored (the output GPA is aligned to the leaf), as tdg_mem_page_attr_rd does.
    if (rcx >> 52n !== 0n || rcx >> 12n >= BigInt(this.privatePages)) {
      return fail(TdxStatus.TDX_OPERAND_INVALID, TdxOperandId.RCX)
    }
    const page = Number(rcx >> 12n)
    const s = this.ept.stateAt(page)
    if (s.kind === PageKind.FREE) return fail(TdxStatus.TDX_EPT_WALK_FAILED, TdxOperandId.RCX)
    // The mapping's own GPA: the page aligned down to its leaf level.
    const base = page - (page % LEVEL_PAGES[s.level])
    return out(SUCCESS, {
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
  attrWr(rcx: bigint, rdx: bigint, r8: bigint): TdcallOutput {
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
    return out(SUCCESS, {
      rcx: rcx | (shaped.state.kind === PageKind.PENDING ? PENDING_BIT : 0n),
      rdx: this.packAttrs(l1, reported),
    })
  }
}

/** Legal combined L2 attributes: only guest-settable bits, and no write without read (EPT). */
function legalAttr(attr: number): boolean {
  if ((attr & ~GUEST_L2_GPA_ATTR_MASK) !== 0) return false
  return !((attr & GpaVmAttr.W) !== 0 && (attr & GpaVmAttr.R) === 0)
}
