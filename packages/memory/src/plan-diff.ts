import type { GuestVtl } from '@vtl/core'
import { ACCEPTED, SHARED, slotOf, vmAttrOfSlot } from './page-state.js'
import type { PlanOpKind, PlanStep } from './plan.js'

/**
 * Run snapshots: flat triples `start, end, word`, ascending. Two snapshots of the same ranges
 * (before and after a change) cover exactly the same pages.
 */
export type RunSnapshot = number[]

interface Phase {
  kind: PlanOpKind
  vtl: GuestVtl
  shared: boolean
}

// The hardware order (§5.6): private→shared releases then tells the host; shared→private tells
// the host, accepts, then writes VTL0's and VTL1's attributes.
const PHASES: readonly Phase[] = [
  { kind: 'release', vtl: 0, shared: false },
  { kind: 'map-gpa', vtl: 0, shared: true },
  { kind: 'map-gpa', vtl: 0, shared: false },
  { kind: 'accept', vtl: 0, shared: false },
  { kind: 'attr-write', vtl: 0, shared: false },
  { kind: 'attr-write', vtl: 1, shared: false },
]

/** -1 when the phase has nothing to do for a page going from `o` to `n`, else its parameter. */
function phaseParam(phase: number, o: number, n: number, tdxConnect: boolean): number {
  const oA = (o & ACCEPTED) !== 0
  const nA = (n & ACCEPTED) !== 0
  const oS = (o & SHARED) !== 0
  const nS = (n & SHARED) !== 0
  switch (phase) {
    case 0:
      // Without TDX Connect, MapGPA to shared makes the host remove the private page itself.
      return oA && !nA && (!nS || tdxConnect) ? 0 : -1
    case 1:
      return !oS && nS ? 0 : -1
    case 2:
      return oS && !nS ? 0 : -1
    case 3:
      return !oA && nA ? 0 : -1
    default: {
      if (!nA) return -1
      const vtl: GuestVtl = phase === 4 ? 0 : 1
      const ns = slotOf(n, vtl)
      // A freshly accepted page has no L2 attributes yet: write whatever is VALID.
      if (oA ? slotOf(o, vtl) === ns : ns === 0) return -1
      return vmAttrOfSlot(ns)
    }
  }
}

/**
 * The one step of a change to `vtl`'s slot alone on one accepted private page: what `diffRuns`
 * finds for it (no other phase has anything to do), built directly.
 */
export function attrWriteStep(page: number, vtl: GuestVtl, slot: number): PlanStep {
  return {
    kind: 'attr-write',
    start: page,
    end: page + 1,
    vtl,
    attr: vmAttrOfSlot(slot),
    shared: false,
  }
}

// Per-phase open step, reused between calls (diffRuns is not re-entrant).
const open: (PlanStep | undefined)[] = PHASES.map(() => undefined)

/**
 * The minimal steps that take hardware from `before` to `after`: per phase, adjacent pages that
 * need the same operation with the same operands form one step, whatever else differs.
 */
export function diffRuns(before: RunSnapshot, after: RunSnapshot, tdxConnect: boolean): PlanStep[] {
  const steps: PlanStep[] = []
  const phaseOf: number[] = []
  let phasesSeen = 0
  open.fill(undefined)
  let i = 0
  let j = 0
  let cur = before[0] ?? 0
  while (i < before.length && j < after.length) {
    const oEnd = before[i + 1] ?? 0
    const nEnd = after[j + 1] ?? 0
    const o = before[i + 2] ?? 0
    const n = after[j + 2] ?? 0
    const segStart = Math.max(cur, before[i] ?? 0, after[j] ?? 0)
    const segEnd = Math.min(oEnd, nEnd)
    if (o !== n) {
      for (let p = 0; p < PHASES.length; p++) {
        const param = phaseParam(p, o, n, tdxConnect)
        if (param < 0) continue
        const step = open[p]
        if (step !== undefined && step.end === segStart && step.attr === param) {
          step.end = segEnd
          continue
        }
        const phase = PHASES[p] ?? { kind: 'accept', vtl: 0, shared: false }
        const fresh: PlanStep = {
          kind: phase.kind,
          start: segStart,
          end: segEnd,
          vtl: phase.vtl,
          attr: param,
          shared: phase.shared,
        }
        steps.push(fresh)
        phaseOf.push(p)
        phasesSeen |= 1 << p
        open[p] = fresh
      }
    }
    cur = segEnd
    if (oEnd === segEnd) i += 3
    if (nEnd === segEnd) j += 3
  }
  open.fill(undefined)
  // Steps were found in address order; put them in phase order (stable) when phases mix.
  if ((phasesSeen & (phasesSeen - 1)) === 0) return steps
  const order = steps.map((_, k) => k)
  order.sort((x, y) => (phaseOf[x] ?? 0) - (phaseOf[y] ?? 0) || x - y)
  return order.map((k) => steps[k] as PlanStep)
}
