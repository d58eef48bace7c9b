import type { GuestVtl, VpBlockedReason, VsmEngine } from '@vtl/core'
import type { GpaSpace } from '@vtl/memory'
import { runnable, type GuestAction, type SimTd, type StepOutcome, type Trace } from '@vtl/sim'
import type { HwTd } from '@vtl/tdx-hw/testing'
import type { BackendKind } from './backend.js'

/**
 * A TD as the service drives it, whichever backend runs it: the engine and GPA space its reads
 * look at, the trace it publishes, and the VP loop's narrow step API. Only the software TD
 * (`sim`) is journaled, snapshotted and rebuilt by replay: a hardware partition's state lives in
 * the TDX module and the kernel, which no log of requests can recreate.
 */
export interface ServedTd {
  readonly backend: BackendKind
  readonly engine: VsmEngine
  readonly space: GpaSpace
  readonly trace: Trace
  /** The VTL `vp` acts at next, its pending wakes handled first (as its next step would). */
  actingVtl(vp: number): GuestVtl
  /** One guest step through core's VP loop (the hardware path answers asynchronously). */
  step(vp: number, action: GuestAction): StepOutcome | Promise<StepOutcome>
  /** Whether `vp`'s active VTL can run: undefined if it can, else the step's `error`. */
  runnable(vp: number): VpBlockedReason | undefined
  /** The software TD behind it (journal, snapshots, replay); undefined on the hardware path. */
  readonly sim: SimTd | undefined
  /** Releases what the TD holds (the hardware path's fds, run pages and VP threads). */
  close(): Promise<void>
}

/** The software TD of `@vtl/sim` as a served TD. */
export function servedSim(td: SimTd): ServedTd {
  return {
    backend: 'sim',
    engine: td.engine,
    space: td.space,
    trace: td.trace,
    actingVtl: (vp) => td.actingVtl(vp),
    step: (vp, action) => td.step(vp, action),
    runnable: (vp) => runnable(td, vp),
    sim: td,
    close: () => Promise.resolve(),
  }
}

/** A hardware-path TD (`HwTd`: core's engine through HwPlatform's ports) as a served TD. */
export function servedHw(td: HwTd, trace: Trace): ServedTd {
  return {
    backend: 'hw',
    engine: td.engine,
    space: td.space,
    trace,
    actingVtl: (vp) => td.actingVtl(vp),
    step: (vp, action) => td.step(vp, action),
    runnable: (vp) => td.runnable(vp),
    sim: undefined,
    close: () => td.close(),
  }
}
