import type { GuestVtl } from '../../hv/vtl.js'
import type { VsmEngine } from '../engine.js'
import { exitToParavisor, prepareEntry } from '../interrupts.js'
import { haltForTlbUnlock } from '../tlb-lock-wait.js'
import type { VsmVp } from '../vp.js'
import { handleVpExit, type ExitOutcome } from './exit-switch.js'
import type { AsyncVpBacking, VpBacking, VpBackingBase } from './vp-backing.js'

/** Why a VP could not enter its active VTL (scenario reports use these names). */
export type VpBlockedReason = 'VpNotRunning' | 'VpBlocked'

/** One pass of the loop on a VP. */
export interface VpRun {
  /** The VTL the VP entered (its active VTL when it could not run). */
  vtl: GuestVtl
  /** Set when the VP could not run: never started, or halted. */
  blocked: VpBlockedReason | undefined
  /** The exit and what the paravisor did with it (undefined when the VP did not run). */
  exit: ExitOutcome | undefined
  /** The VTL the VP runs next, after the post-exit entry preparation. */
  activeVtl: GuestVtl
}

export interface VpRunOptions {
  /**
   * Nothing changed for this VP since the loop's last post-exit preparation (the host tracks
   * wakes): skip the pre-entry one.
   */
  prepared?: boolean
  /**
   * Called right after the exit switch with the VTL that exited, before the VP leaves its lower
   * VTL (traces, devices).
   */
  afterExit?: (exit: ExitOutcome, vtl: GuestVtl) => void
  /**
   * Filled and returned instead of a new result: a host that reads each pass's result before the
   * next one keeps one object for all of them (the hot path then allocates no result).
   */
  into?: VpRun
}

/**
 * No wake word, no requested interrupt or NMI in either VTL's APIC and no VTL1 pending event:
 * `prepareEntry` would change nothing but `active_vtl` (its every branch needs one of these).
 */
function quiet(engine: VsmEngine, state: VsmVp): boolean {
  if (engine.shared.anyWake(state.index)) return false
  const vtl0 = state.vtls[0]
  const vtl1 = state.vtls[1]
  if (vtl0.apic.nmiPending || vtl1.apic.nmiPending) return false
  if (vtl0.apic.anyRequested() || vtl1.apic.anyRequested()) return false
  return state.vtl1?.vtl0ExitPendingEvent === undefined
}

/**
 * Everything before a lower-VTL entry (§6.4 steps 1–2): wakes, interrupts, the VTL to run; an
 * injected interrupt ends a HLT. Returns the VTL and tells the backing.
 */
export function prepareVpEntry(engine: VsmEngine, backing: VpBackingBase, vp: number): GuestVtl {
  return prepare(engine, backing, engine.vp(vp))
}

function prepare(engine: VsmEngine, backing: VpBackingBase, state: VsmVp): GuestVtl {
  if (!quiet(engine, state)) return preparePending(engine, backing, state)
  const vtl = state.exitVtl
  engine.shared.setActiveVtl(state.index, vtl)
  backing.prepared?.(state.index, vtl, -1)
  return vtl
}

/** `prepare` with something pending (kept apart: the quiet case stays small enough to inline). */
function preparePending(engine: VsmEngine, backing: VpBackingBase, state: VsmVp): GuestVtl {
  const { vtl, vector } = prepareEntry(engine, state.index)
  const apic = state.vtls[vtl].apic
  if (vector >= 0 && apic.activity === 'halted') apic.activity = 'running'
  backing.prepared?.(state.index, vtl, vector)
  return vtl
}

/**
 * Whether `vp`'s active VTL can run: undefined if it can; VpBlocked while it is halted (HLT) or
 * waits for another VP's TLB lock on that VTL (§13.15).
 */
export function vpBlocked(engine: VsmEngine, vp: number): VpBlockedReason | undefined {
  return blockedReason(engine, engine.vp(vp))
}

function blockedReason(engine: VsmEngine, state: VsmVp): VpBlockedReason | undefined {
  const vtl = state.exitVtl
  const activity = state.vtls[vtl].apic.activity
  if (activity === 'running') {
    // The common case decides without a call: no TLB-lock wait recorded for the VTL.
    if (state.tlbWait[vtl] === undefined) return undefined
    return haltForTlbUnlock(engine, state) ? 'VpBlocked' : undefined
  }
  return activity === 'halted' ? 'VpBlocked' : 'VpNotRunning'
}

/** The pass's result, in `into` when the caller gave one. */
function result(
  into: VpRun | undefined,
  vtl: GuestVtl,
  blocked: VpBlockedReason | undefined,
  exit: ExitOutcome | undefined,
  activeVtl: GuestVtl
): VpRun {
  if (into === undefined) return { vtl, blocked, exit, activeVtl }
  into.vtl = vtl
  into.blocked = blocked
  into.exit = exit
  into.activeVtl = activeVtl
  return into
}

/** After the exit switch: the hook, the VP leaves its lower VTL, the next entry is prepared. */
function finish(
  engine: VsmEngine,
  backing: VpBackingBase,
  state: VsmVp,
  vtl: GuestVtl,
  exit: ExitOutcome,
  options: VpRunOptions
): VpRun {
  const hook = options.afterExit
  if (hook !== undefined) hook(exit, vtl)
  exitToParavisor(engine, state.index)
  return result(options.into, vtl, undefined, exit, prepare(engine, backing, state))
}

const NO_OPTIONS: VpRunOptions = {}

/**
 * The one VP loop, one pass (OpenVMM's `run_vp`): prepare the entry, enter the active VTL through
 * the backing, dispatch the exit, leave the lower VTL and prepare the next entry.
 */
export function runVp(
  engine: VsmEngine,
  backing: VpBacking,
  vp: number,
  options: VpRunOptions = NO_OPTIONS
): VpRun {
  const state = engine.vp(vp)
  const vtl = options.prepared === true ? state.exitVtl : prepare(engine, backing, state)
  const blocked = blockedReason(engine, state)
  if (blocked !== undefined) return result(options.into, vtl, blocked, undefined, vtl)
  const exit = handleVpExit(engine, backing, vp, vtl, backing.enter(vp, vtl))
  return finish(engine, backing, state, vtl, exit, options)
}

/**
 * `runVp` for a backing whose entry completes later. A run a wake cancelled before the L2 ran is
 * prepared and entered again, at most `maxCancelled` times (then the result has no exit).
 */
export async function runVpAsync(
  engine: VsmEngine,
  backing: AsyncVpBacking,
  vp: number,
  options: VpRunOptions & { maxCancelled?: number } = {}
): Promise<VpRun> {
  const maxCancelled = options.maxCancelled ?? 8
  const state = engine.vp(vp)
  let vtl = options.prepared === true ? state.exitVtl : prepare(engine, backing, state)
  for (let attempt = 0; ; attempt++) {
    const blocked = blockedReason(engine, state)
    if (blocked !== undefined) return result(options.into, vtl, blocked, undefined, vtl)
    const exit = await backing.enter(vp, vtl)
    if (exit !== undefined) {
      return finish(
        engine,
        backing,
        state,
        vtl,
        handleVpExit(engine, backing, vp, vtl, exit),
        options
      )
    }
    if (attempt + 1 >= maxCancelled) return result(options.into, vtl, undefined, undefined, vtl)
    vtl = prepare(engine, backing, state)
  }
}
