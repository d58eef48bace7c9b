import type { BackendKind, TdBackend } from './backend.js'
import type { TdLimits } from './limits.js'
import type { GuestVtl } from '@vtl/core'
import type { ActionKind, StepResult, TraceEvent } from '@vtl/sim'

/** What POST /v1/tds asks for (decoded). */
export interface TdSpec {
  name?: string | undefined
  vps: number
  memory: bigint
  gpaWidth: 48 | 52
  mbec: boolean
  /** VPs running in VTL0 at creation (default all; the others wait for StartVirtualProcessor). */
  startedVps?: number[] | undefined
}

/** A raw hypercall as the guest issues it (decoded); `vtl` asserts the VP's active VTL. */
export interface HypercallSpec {
  vp: number
  vtl?: GuestVtl | undefined
  code: number
  input: Uint8Array
  repStart: number
  repCount: number
  varHeaderSize: number
  fast: boolean
}

/** A TD as the API shows it. */
export interface TdView {
  id: string
  name: string | null
  /** `sim`: the software TD (journaled); `hw`: the hardware path (`--backend hw`, not journaled). */
  backend: BackendKind
  vps: number
  memory: string
  gpaWidth: 48 | 52
  mbec: boolean
  /** `failed`: a journal write failed after a command was applied, or the paravisor panicked; only reads are served. */
  state: 'running' | 'failed'
}

/** One performed step as the steps route answers it. */
export interface StepDone {
  index: number
  vp: number
  vtl: GuestVtl
  action: ActionKind
  result: StepResult
}

/** A typed rep call over a range: the last call's result and the pages processed in all. */
export type RangeResult = StepResult & { processed: number }

/** One run of pages with the same state, as the memory/runs route answers it. */
export interface RunWire {
  start: string
  size: string
  kind: 'ram' | 'mmio' | 'none'
  visibility: 'private' | 'shared'
  accepted: boolean
  locked: boolean
  vtl0: string
  vtl1: string
  overlay: { vtl0: boolean; vtl1: boolean }
}

/** HvRegisterVsmPartitionConfig as a VP's active VTL reads it. */
export interface PartitionConfigRead {
  vp: number
  vtl: GuestVtl
  value: string
  status: string
}

/**
 * The answer an Idempotency-Key keeps: rendered by the HTTP layer and stored in the same
 * transaction as the command's journal records.
 */
export interface Idempotency<T> {
  key: string
  fingerprint: string
  render: (value: T) => { status: number; body: string }
}

/** Trace events a command produced on a TD (after it committed). */
export type TraceListener = (td: string, events: readonly TraceEvent[]) => void

export interface TdServiceOptions {
  /** Snapshot a TD after this many journal records of it (default 256). */
  snapshotEvery?: number
  /**
   * A due snapshot waits until the TD had no command for this long, so a burst is not stalled by
   * it (default 100; 0: at once, after the command that made it due).
   */
  snapshotIdleMs?: number
  /** Events each new TD's trace ring keeps (default 16 384; counts stay exact). */
  traceLimit?: number
  /** How long Idempotency-Key answers are kept, in ms (default 24 h). */
  answerTtlMs?: number
  /** TD, VP, memory and per-request cost limits (defaults: `TD_LIMITS`). */
  limits?: Partial<TdLimits>
  /** The clock answer ages are measured with (tests). */
  now?: () => number
  /** The backend new TDs are created on (default `sim`). */
  backend?: TdBackend
}
