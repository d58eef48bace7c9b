import type { GuestVtl } from '@vtl/core'
import { createRandom, type Random } from '../random.js'
import type { GuestAction, StepResult } from '../scenario/types.js'
import type { SimTd } from '../td/sim-td.js'

/** One scheduling decision: a VP's next action, or a woken VP handling its wakes. */
export type ScheduledStep =
  | { kind: 'action'; vp: number; vtl: GuestVtl; action: GuestAction['kind']; result: StepResult }
  | { kind: 'wake'; vp: number; activeVtl: GuestVtl }

/** Per VP, the actions its guest performs in order. */
export type GuestPrograms = ReadonlyMap<number, readonly GuestAction[]>

/**
 * Deterministic mode: one thread, VPs interleaved by a seeded stream at every point where
 * OpenHCL's VP threads can interleave. The engine's handlers run under their locks without
 * yielding (the partition lock and VP mutexes are never held across a return to the guest), so
 * the interleaving points are the exits (each guest action ends in one) and the wakes (a VP kicked
 * by another may handle its wake words before or after any other VP's next action). The same
 * seed and programs give the same run, decision for decision.
 *
 * A parallel host keeps this contract: cross-VP state lives only in the engine's SharedVsmState
 * and in the module/GpaSpace; everything else a step touches belongs to the acting VP.
 */
export class DeterministicScheduler {
  readonly random: Random
  private readonly cursors = new Map<number, number>()

  constructor(
    readonly td: SimTd,
    seed: number = td.seed
  ) {
    this.random = createRandom(seed).fork('scheduler')
  }

  /** Runs the programs to the end (or `maxSteps` decisions) and returns every decision. */
  run(programs: GuestPrograms, maxSteps = Number.MAX_SAFE_INTEGER): ScheduledStep[] {
    const out: ScheduledStep[] = []
    while (out.length < maxSteps) {
      const step = this.next(programs)
      if (step === undefined) break
      out.push(step)
    }
    return out
  }

  /** One decision, or undefined when every program is done and no VP has a wake pending. */
  next(programs: GuestPrograms): ScheduledStep | undefined {
    const ready: number[] = []
    for (const [vp, actions] of [...programs].sort((a, b) => a[0] - b[0])) {
      if ((this.cursors.get(vp) ?? 0) < actions.length) ready.push(vp)
    }
    const woken = this.td.wokenVps()
    const choices = ready.length + woken.length
    if (choices === 0) return undefined
    const pick = this.random.int(choices)
    if (pick >= ready.length) {
      const vp = woken[pick - ready.length] as number
      return { kind: 'wake', vp, activeVtl: this.td.handleWake(vp) }
    }
    const vp = ready[pick] as number
    const index = this.cursors.get(vp) ?? 0
    const action = programs.get(vp)?.[index] as GuestAction
    this.cursors.set(vp, index + 1)
    // The acting VP handles its own wakes before (and after) its guest runs.
    const { vtl, result } = this.td.step(vp, action)
    return { kind: 'action', vp, vtl, action: action.kind, result }
  }
}
