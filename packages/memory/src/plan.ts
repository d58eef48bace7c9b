import {
  attrWriteOperands,
  encodeGpaOperand,
  GPA_VM_ATTR_MASK_ALL_CHANGED,
  GpaVmAttr,
  packAttrSlot,
  sharedBit,
  vmIndexForVtl,
  type GpaWidth,
  type GuestVtl,
  type PageLevel,
} from '@vtl/core'
import {
  LEAF_TDG_MEM_PAGE_ACCEPT,
  LEAF_TDG_MEM_PAGE_ATTR_WR,
  LEAF_TDG_MEM_PAGE_RELEASE,
  LEAF_TDG_VP_VMCALL,
  TDVMCALL_MAP_GPA,
} from './tdx-status.js'

/** TDG.MEM.PAGE.ACCEPT (leaf 6) of one aligned mapping. */
export interface AcceptOp {
  kind: 'accept'
  gpn: bigint
  level: PageLevel
}

/** TDG.MEM.PAGE.RELEASE (leaf 30) of one aligned mapping. */
export interface ReleaseOp {
  kind: 'release'
  gpn: bigint
  level: PageLevel
}

/** TDG.MEM.PAGE.ATTR.WR (leaf 24): one L2 VM's 16-bit attributes under `mask`. */
export interface AttrWriteOp {
  kind: 'attr-write'
  gpn: bigint
  level: PageLevel
  vtl: GuestVtl
  /** `GpaVmAttributes` for the VTL's slot (VALID in bit 15). */
  attr: number
  /** The slot's write mask: always `ALL_CHANGED` (bits 0–3), as OpenHCL writes it (PR #904). */
  mask: number
}

/**
 * The host-visibility notification for a canonical page range: TDG.VP.VMCALL<MapGPA> at the TDX
 * level, which OpenHCL issues as HvCallModifySparseGpaPageHostVisibility to the hypervisor.
 */
export interface MapGpaOp {
  kind: 'map-gpa'
  gpn: bigint
  pages: bigint
  /** Target visibility: `true` = shared with the host. */
  shared: boolean
}

export type PlanOp = AcceptOp | ReleaseOp | AttrWriteOp | MapGpaOp
export type PlanOpKind = PlanOp['kind']

/**
 * One range-level step of a plan (page numbers as numbers). A step is expanded into hardware ops
 * at the largest aligned level only when it is executed or listed, so a plan's size follows the
 * number of distinct ranges, not pages.
 */
export interface PlanStep {
  kind: PlanOpKind
  start: number
  end: number
  /** attr-write only. */
  vtl: GuestVtl
  /** attr-write only: the 16-bit slot value. */
  attr: number
  /** map-gpa only. */
  shared: boolean
}

const PAGES: readonly number[] = [1, 512, 262144]

/** Number of aligned mappings, each of the largest level ≤ `maxLevel`, that cover `[s, e)`. */
export function alignedChunkCount(s: number, e: number, maxLevel: PageLevel): number {
  if (s >= e) return 0
  if (maxLevel === 0) return e - s
  const size = PAGES[maxLevel] ?? 1
  const a = Math.ceil(s / size) * size
  const b = Math.floor(e / size) * size
  const lower = (maxLevel - 1) as PageLevel
  if (a >= b) return alignedChunkCount(s, e, lower)
  return (b - a) / size + alignedChunkCount(s, a, lower) + alignedChunkCount(b, e, lower)
}

/**
 * Calls `fn(gpn, level)` for each aligned mapping covering `[s, e)`, in ascending order.
 * Returning `false` from `fn` stops the walk; the result says whether it ran to the end.
 */
export function forEachAlignedChunk(
  s: number,
  e: number,
  maxLevel: PageLevel,
  fn: (gpn: number, level: PageLevel) => unknown
): boolean {
  if (s >= e) return true
  if (maxLevel === 0) {
    for (let g = s; g < e; g++) if (fn(g, 0) === false) return false
    return true
  }
  const size = PAGES[maxLevel] ?? 1
  const a = Math.ceil(s / size) * size
  const b = Math.floor(e / size) * size
  const lower = (maxLevel - 1) as PageLevel
  if (a >= b) return forEachAlignedChunk(s, e, lower, fn)
  if (!forEachAlignedChunk(s, a, lower, fn)) return false
  for (let g = a; g < b; g += size) if (fn(g, maxLevel) === false) return false
  return forEachAlignedChunk(b, e, lower, fn)
}

/** Pages covered by one mapping at `level`. */
export function pagesAtLevel(level: PageLevel): number {
  return PAGES[level] ?? 1
}

/** The hardware op for one chunk of a step. */
export function stepOp(step: PlanStep, gpn: number, level: PageLevel): PlanOp {
  switch (step.kind) {
    case 'accept':
      return { kind: 'accept', gpn: BigInt(gpn), level }
    case 'release':
      return { kind: 'release', gpn: BigInt(gpn), level }
    case 'attr-write':
      return {
        kind: 'attr-write',
        gpn: BigInt(gpn),
        level,
        vtl: step.vtl,
        attr: step.attr,
        mask: GPA_VM_ATTR_MASK_ALL_CHANGED,
      }
    case 'map-gpa':
      return {
        kind: 'map-gpa',
        gpn: BigInt(step.start),
        pages: BigInt(step.end - step.start),
        shared: step.shared,
      }
  }
}

/**
 * The minimal ordered list of hardware operations for one change. Order: RELEASE, MapGPA to
 * shared, MapGPA to private, ACCEPT, ATTR.WR for VTL0, ATTR.WR for VTL1 — the order OpenHCL uses
 * in each direction (§5.6) — and ascending addresses within a phase.
 */
export class Plan {
  readonly steps: readonly PlanStep[]
  /** The largest mapping level ops are issued at (2 = 1 GiB). */
  readonly maxLevel: PageLevel

  constructor(steps: readonly PlanStep[], maxLevel: PageLevel = 2) {
    this.steps = steps
    this.maxLevel = maxLevel
  }

  get isEmpty(): boolean {
    return this.steps.length === 0
  }

  /** Number of hardware ops, computed without listing them. */
  get opCount(): number {
    let n = 0
    for (const s of this.steps) n += stepOpCount(s, this.maxLevel)
    return n
  }

  /** Number of ops of one kind. */
  count(kind: PlanOpKind): number {
    let n = 0
    for (const s of this.steps) if (s.kind === kind) n += stepOpCount(s, this.maxLevel)
    return n
  }

  /** Calls `fn` for each hardware op in order; returning `false` stops. */
  forEachOp(fn: (op: PlanOp) => unknown): void {
    for (const step of this.steps) {
      if (step.kind === 'map-gpa') {
        if (fn(stepOp(step, step.start, 0)) === false) return
        continue
      }
      const done = forEachAlignedChunk(step.start, step.end, this.maxLevel, (gpn, level) =>
        fn(stepOp(step, gpn, level))
      )
      if (!done) return
    }
  }

  /** The hardware ops as a list (for small plans: a 1 TiB change at 4 KiB is 2^28 ops). */
  ops(): PlanOp[] {
    const out: PlanOp[] = []
    this.forEachOp((op) => out.push(op))
    return out
  }
}

function stepOpCount(step: PlanStep, maxLevel: PageLevel): number {
  return step.kind === 'map-gpa' ? 1 : alignedChunkCount(step.start, step.end, maxLevel)
}

/** The registers of the TDCALL that carries `op` (unused ones are 0). */
export interface TdcallRegisters {
  rax: bigint
  rcx: bigint
  rdx: bigint
  r8: bigint
  r10: bigint
  r11: bigint
  r12: bigint
  r13: bigint
}

/**
 * The TDCALL registers for an op, for a hardware sink. ATTR.WR uses core's `attrWriteOperands`
 * whenever the op sets VALID with the ALL_CHANGED mask (every forward plan), so RDX/R8 are exactly
 * OpenHCL's; only rollback of a never-mapped VTL1 slot writes VALID = 0. MapGPA is
 * TDG.VP.VMCALL with R12 = the GPA (shared alias for the shared target) and R13 = the size.
 */
export function tdcallRegisters(op: PlanOp, gpaWidth: GpaWidth = 48): TdcallRegisters {
  const regs: TdcallRegisters = {
    rax: 0n,
    rcx: 0n,
    rdx: 0n,
    r8: 0n,
    r10: 0n,
    r11: 0n,
    r12: 0n,
    r13: 0n,
  }
  switch (op.kind) {
    case 'accept':
      regs.rax = BigInt(LEAF_TDG_MEM_PAGE_ACCEPT)
      regs.rcx = encodeGpaOperand({ level: op.level, gpn: op.gpn })
      break
    case 'release':
      regs.rax = BigInt(LEAF_TDG_MEM_PAGE_RELEASE)
      regs.rcx = encodeGpaOperand({ level: op.level, gpn: op.gpn })
      break
    case 'attr-write': {
      regs.rax = BigInt(LEAF_TDG_MEM_PAGE_ATTR_WR)
      regs.rcx = encodeGpaOperand({ level: op.level, gpn: op.gpn })
      if (op.attr & GpaVmAttr.VALID && op.mask === GPA_VM_ATTR_MASK_ALL_CHANGED) {
        const { rdx, r8 } = attrWriteOperands(op.vtl, op.attr & 0xf)
        regs.rdx = rdx
        regs.r8 = r8
      } else {
        const slot = vmIndexForVtl(op.vtl)
        regs.rdx = packAttrSlot(slot, op.attr)
        regs.r8 = packAttrSlot(slot, op.mask)
      }
      break
    }
    case 'map-gpa':
      regs.rax = BigInt(LEAF_TDG_VP_VMCALL)
      regs.rcx = 0x3c00n
      regs.r11 = BigInt(TDVMCALL_MAP_GPA)
      regs.r12 = (op.gpn << 12n) | (op.shared ? sharedBit(gpaWidth) : 0n)
      regs.r13 = op.pages << 12n
      break
  }
  return regs
}
