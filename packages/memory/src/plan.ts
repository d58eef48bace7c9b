import { GPA_VM_ATTR_MASK_ALL_CHANGED, type GuestVtl, type PageLevel } from '@vtl/core'
import { alignedChunkCount, forEachAlignedChunk } from './aligned-chunks.js'

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
      const done = forEachAlignedChunk(
        step.start,
        step.end,
        levelCap(step, this.maxLevel),
        (gpn, level) => fn(stepOp(step, gpn, level))
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

/**
 * TDG.MEM.PAGE.ACCEPT and RELEASE take 4 KiB and 2 MiB only (a 1 GiB request is
 * TDX_OPERAND_INVALID); ATTR.WR may go up to 1 GiB.
 */
function levelCap(step: PlanStep, maxLevel: PageLevel): PageLevel {
  return (step.kind === 'accept' || step.kind === 'release') && maxLevel > 1 ? 1 : maxLevel
}

function stepOpCount(step: PlanStep, maxLevel: PageLevel): number {
  return step.kind === 'map-gpa'
    ? 1
    : alignedChunkCount(step.start, step.end, levelCap(step, maxLevel))
}
