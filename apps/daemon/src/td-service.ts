import { randomUUID } from 'node:crypto'
import {
  GuestVsmState,
  HvRegisterName,
  VtlError,
  formatPermissionText,
  getVpRegister,
  hvStatusName,
  type GuestVtl,
} from '@vtl/core'
import { formatHex } from '@vtl/core/schemas'
import {
  SimTd,
  bindGuest,
  enterGuest,
  performStep,
  restoreTd,
  saveTd,
  type ActionKind,
  type ChromeTraceEvent,
  type ScenarioStep,
  type StepResult,
  type TdSnapshot,
  type TraceEvent,
  Trace,
} from '@vtl/sim'
import { CommandQueue } from './command-queue.js'
import {
  enablePartitionVtlStep,
  enableVpVtlStep,
  hostVisibilitySteps,
  parseSteps,
  protectSteps,
  setPartitionConfigStep,
  startVpStep,
  type ContextSource,
  type StepSource,
} from './guest-steps.js'
import {
  Journal,
  type CreateRecord,
  type HypercallRecord,
  type IdempotentAnswer,
  type JournalRecord,
  type StepRecord,
  type TdMeta,
} from './journal.js'
import { HTTP_STATUS, ProblemError, problem } from './problem.js'

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
  backend: 'sim'
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
  /** Events each new TD's trace ring keeps (default 16 384; counts stay exact). */
  traceLimit?: number
  /** How long Idempotency-Key answers are kept, in ms (default 24 h). */
  answerTtlMs?: number
  /** The clock answer ages are measured with (tests). */
  now?: () => number
}

interface TdEntry {
  meta: TdMeta
  td: SimTd
  queue: CommandQueue
  /** Why the TD only serves reads: its journal fell behind, or its paravisor panicked. */
  failure: string | undefined
  /** The seq of the TD's last journal record (what a snapshot now covers). */
  lastSeq: number
  /** Records since the TD's last snapshot. */
  sinceSnapshot: number
  /** Trace events handed to listeners so far (= the trace's recorded count then). */
  seen: number
}

/** What a command did: the records to journal, then its value or the problem to answer. */
type Mutation<T> = { records: JournalRecord[] } & (
  | { value: T; error?: undefined }
  /** `panic`: the paravisor panicked; the TD fails once the records are journaled. */
  | { error: ProblemError; panic?: string }
)

const VSM_STATE_NAMES: Readonly<Record<number, string>> = {
  [GuestVsmState.NotPlatformSupported]: 'NotPlatformSupported',
  [GuestVsmState.NotGuestEnabled]: 'NotGuestEnabled',
  [GuestVsmState.Enabled]: 'Enabled',
}

const DEFAULT_TRACE_LIMIT = 16_384

function recorded(trace: Trace): number {
  return trace.dropped + trace.size
}

function noTd(id: string): ProblemError {
  return new ProblemError('E_NO_TD', `no TD with id ${id}`)
}

/** The VTL `vp` acts at next, its pending wakes handled first (as `performStep` would). */
function actingVtl(td: SimTd, vp: number): GuestVtl {
  if (td.settled(vp)) return td.engine.vp(vp).exitVtl
  bindGuest(td)
  td.currentVp = vp
  const vtl = enterGuest(td, vp)
  td.settle(vp)
  return vtl
}

/**
 * Performs one step; with a `vtl` assertion that does not hold, only the VP's wake handling
 * happens (deterministic, so replay reproduces it) and the mismatch is returned.
 */
function applyStep(td: SimTd, step: ScenarioStep): { vtl: GuestVtl; result?: StepResult } {
  if (step.vtl !== undefined) {
    const vtl = actingVtl(td, step.vp)
    if (vtl !== step.vtl) return { vtl }
  }
  return performStep(td, step.vp, step.action)
}

/**
 * `applyStep`, with a typed panic of the paravisor (a VtlError where OpenHCL would crash the TD)
 * as a value: it is deterministic, so the step is journaled and a replay fails the TD the same way.
 */
function tryStep(td: SimTd, step: ScenarioStep): ReturnType<typeof applyStep> | { panic: string } {
  try {
    return applyStep(td, step)
  } catch (error) {
    if (!VtlError.isInstance(error)) throw error
    return { panic: `the paravisor panicked: ${error.message} (${error.code})` }
  }
}

/** The answer to a command whose step `index` panicked (the TD fails once it is journaled). */
function panicked(records: JournalRecord[], index: number, panic: string): Mutation<never> {
  return { records, panic, error: new ProblemError('E_PARAVISOR_PANIC', `step ${index}: ${panic}`) }
}

/** The daemon's TDs (simulated), each with its own serialised command queue. */
export class TdService {
  private readonly tds = new Map<string, TdEntry>()
  private readonly journal: Journal
  private readonly snapshotEvery: number
  private readonly traceLimit: number
  private readonly answerTtlMs: number
  private readonly now: () => number
  private readonly listeners = new Set<TraceListener>()
  private readonly endListeners = new Set<(td: string | undefined) => void>()
  private streamsClosed = false

  /** Without a journal the TDs live in an in-memory one (tests, throwaway daemons). */
  constructor(journal: Journal = new Journal(':memory:'), options: TdServiceOptions = {}) {
    this.journal = journal
    this.snapshotEvery = options.snapshotEvery ?? 256
    this.traceLimit = options.traceLimit ?? DEFAULT_TRACE_LIMIT
    this.answerTtlMs = options.answerTtlMs ?? 24 * 3600 * 1000
    this.now = options.now ?? Date.now
    if (!Number.isSafeInteger(this.snapshotEvery) || this.snapshotEvery < 1) {
      throw new RangeError(`snapshotEvery must be a positive integer: ${this.snapshotEvery}`)
    }
    const covered = new Map<string, number>()
    for (const stored of journal.snapshots()) {
      const entry = this.enter(stored.meta, restoreTd(stored.snapshot))
      entry.lastSeq = stored.seq
      covered.set(stored.meta.td, stored.seq)
    }
    for (const { seq, record } of journal.entries()) {
      if (seq <= (covered.get(record.td) ?? 0)) continue
      this.replay(record)
      const entry = this.tds.get(record.td)
      if (entry !== undefined) {
        entry.lastSeq = seq
        entry.sinceSnapshot++
      }
    }
    this.maintain()
  }

  /** Compaction of deleted TDs and expiry of old Idempotency-Key answers. */
  private maintain(): void {
    this.journal.compact()
    this.journal.dropAnswers(new Date(this.now() - this.answerTtlMs))
  }

  private replay(record: JournalRecord): void {
    switch (record.op) {
      case 'td.create':
        this.build(record)
        return
      case 'td.restore':
        this.enter(
          this.restoredMeta(record.td, record.name, record.snapshot),
          restoreTd(record.snapshot)
        )
        return
      case 'td.delete':
        this.tds.delete(record.td)
        return
    }
    const entry = this.tds.get(record.td)
    if (entry === undefined) return
    switch (record.op) {
      case 'hypercall':
        this.applyLegacyHypercall(entry, record)
        return
      case 'step': {
        const [step] = parseSteps(entry.meta, [JSON.parse(record.step) as StepSource])
        if (step === undefined) return
        const outcome = tryStep(entry.td, step)
        if ('panic' in outcome) entry.failure = outcome.panic
        return
      }
      case 'mem.accept':
        entry.td.space.acceptPages({ start: BigInt(record.start), end: BigInt(record.end) })
        return
    }
  }

  private applyLegacyHypercall(entry: TdEntry, record: HypercallRecord): void {
    performStep(entry.td, record.vp, {
      kind: 'hypercall',
      call: {
        kind: 'raw',
        code: record.code,
        input: Buffer.from(record.input, 'hex'),
        repStart: record.repStart,
        repCount: record.repCount,
        varHeaderSize: record.varHeaderSize,
        fast: record.fast,
      },
    })
  }

  private enter(meta: TdMeta, td: SimTd): TdEntry {
    const entry: TdEntry = {
      meta,
      td,
      queue: new CommandQueue(),
      failure: undefined,
      lastSeq: 0,
      sinceSnapshot: 0,
      seen: recorded(td.trace),
    }
    this.tds.set(meta.td, entry)
    return entry
  }

  private build(record: CreateRecord): TdEntry {
    const td = new SimTd({
      vps: record.vps,
      memory: BigInt(record.memory),
      gpaWidth: record.gpaWidth,
      mbecCapable: record.mbec,
      traceLimit: record.traceLimit ?? DEFAULT_TRACE_LIMIT,
      ...(record.startedVps === undefined ? {} : { startedVps: record.startedVps }),
    })
    const { td: id, name, vps, memory, gpaWidth, mbec } = record
    return this.enter({ td: id, name, vps, memory, gpaWidth, mbec }, td)
  }

  private restoredMeta(td: string, name: string | undefined, snapshot: TdSnapshot): TdMeta {
    const { options } = snapshot
    return {
      td,
      name,
      vps: options.vps,
      memory: options.memory,
      gpaWidth: options.gpaWidth,
      mbec: options.mbecCapable,
    }
  }

  private entry(id: string): TdEntry {
    const entry = this.tds.get(id)
    if (entry === undefined) throw noTd(id)
    return entry
  }

  private view(entry: TdEntry): TdView {
    const { meta } = entry
    return {
      id: meta.td,
      name: meta.name ?? null,
      backend: 'sim',
      vps: meta.vps,
      memory: meta.memory,
      gpaWidth: meta.gpaWidth,
      mbec: meta.mbec,
      state: entry.failure === undefined ? 'running' : 'failed',
    }
  }

  private checkName(name: string | undefined): void {
    if (name === undefined) return
    for (const entry of this.tds.values()) {
      if (entry.meta.name === name) {
        throw new ProblemError('E_TD_EXISTS', `a TD named ${name} exists (${entry.meta.td})`)
      }
    }
  }

  private checkVp(entry: TdEntry, vp: number): void {
    if (vp >= entry.meta.vps) {
      throw new ProblemError(
        'E_BAD_VP',
        `vp ${vp} is out of range: TD ${entry.meta.td} has ${entry.meta.vps} VPs`
      )
    }
  }

  private writable(id: string, entry: TdEntry): void {
    if (this.tds.get(id) !== entry) throw noTd(id)
    if (entry.failure !== undefined) {
      throw new ProblemError(
        'E_TD_FAILED',
        `TD ${id} failed (${entry.failure}); it only serves reads`
      )
    }
  }

  /**
   * Journals a mutation (and the idempotent answer) in one transaction. A failed write after the
   * command was applied leaves the TD ahead of its journal: it is marked failed.
   */
  private commit<T>(
    entry: TdEntry | undefined,
    mutation: Mutation<T>,
    idem?: Idempotency<T>,
    created = false
  ): T {
    if (mutation.records.length > 0) {
      let answer: IdempotentAnswer | undefined
      if (idem !== undefined) {
        const rendered =
          mutation.error === undefined
            ? idem.render(mutation.value)
            : {
                status: HTTP_STATUS[mutation.error.code],
                body: JSON.stringify(
                  problem(mutation.error.code, mutation.error.message, mutation.error.extra)
                ),
              }
        answer = { key: idem.key, fingerprint: idem.fingerprint, ...rendered }
      }
      let seq: number
      try {
        seq = this.journal.commit(mutation.records, answer)
      } catch (error) {
        // A TD being created is dropped by the caller; one that ran a command is ahead now.
        const failed = entry !== undefined && !created
        if (failed) {
          entry.failure = 'a journal write failed after a command was applied'
          this.publish(entry)
        }
        throw new ProblemError(
          'E_INTERNAL',
          `journal write failed (${error instanceof Error ? error.message : String(error)})` +
            (failed ? `; TD ${entry.meta.td} is marked failed` : '')
        )
      }
      if (entry !== undefined) {
        if (mutation.error !== undefined && mutation.panic !== undefined) {
          entry.failure = mutation.panic
        }
        entry.lastSeq = seq
        entry.sinceSnapshot += mutation.records.length
        this.publish(entry)
        if (entry.sinceSnapshot >= this.snapshotEvery) {
          // The command is committed; a failed snapshot loses nothing (its records stay), so
          // it only waits for the next N records.
          try {
            this.snapshot(entry)
            this.maintain()
          } catch {
            entry.sinceSnapshot = 0
          }
        }
      }
    }
    if (mutation.error !== undefined) throw mutation.error
    return mutation.value
  }

  /** Runs a command on the TD's queue once the commands before it settled. */
  private async mutate<T>(
    id: string,
    idem: Idempotency<T> | undefined,
    command: (entry: TdEntry) => Mutation<T>
  ): Promise<T> {
    const entry = this.entry(id)
    this.writable(id, entry)
    return await entry.queue.run(() => {
      this.writable(id, entry)
      return this.commit(entry, command(entry), idem)
    })
  }

  private async read<T>(id: string, query: (entry: TdEntry) => T): Promise<T> {
    const entry = this.entry(id)
    return await entry.queue.run(() => {
      if (this.tds.get(id) !== entry) throw noTd(id)
      return query(entry)
    })
  }

  // ---- TDs ----

  create(spec: TdSpec, idem?: Idempotency<TdView>): TdView {
    this.checkName(spec.name)
    const started = spec.startedVps ?? []
    if (started.some((vp) => vp >= spec.vps) || new Set(started).size !== started.length) {
      throw new ProblemError('E_BAD_TD', `startedVps must list distinct VPs below ${spec.vps}`)
    }
    const record: CreateRecord = {
      op: 'td.create',
      td: `td-${randomUUID().slice(0, 8)}`,
      name: spec.name,
      vps: spec.vps,
      memory: formatHex(spec.memory),
      gpaWidth: spec.gpaWidth,
      mbec: spec.mbec,
      ...(spec.startedVps === undefined ? {} : { startedVps: spec.startedVps }),
      traceLimit: this.traceLimit,
    }
    // Build first (a bad geometry throws before anything is journaled), then journal, then answer.
    let entry: TdEntry
    try {
      entry = this.build(record)
    } catch (error) {
      // The simulator refuses a geometry the schema cannot see (alignment, GPA width): bad input.
      if (VtlError.isInstance(error)) {
        throw new ProblemError('E_BAD_TD', `${error.message} (${error.code})`)
      }
      throw error
    }
    try {
      return this.commit(entry, { records: [record], value: this.view(entry) }, idem, true)
    } catch (error) {
      this.tds.delete(record.td)
      throw error
    }
  }

  /** A new TD in the state of a snapshot document (`saveTd`'s JSON form). */
  restore(name: string | undefined, snapshot: TdSnapshot, idem?: Idempotency<TdView>): TdView {
    this.checkName(name)
    const id = `td-${randomUUID().slice(0, 8)}`
    let td: SimTd
    let meta: TdMeta
    try {
      td = restoreTd(snapshot)
      meta = this.restoredMeta(id, name, snapshot)
    } catch (error) {
      throw new ProblemError(
        'E_BAD_SNAPSHOT',
        `cannot restore the snapshot: ${error instanceof Error ? error.message : String(error)}`
      )
    }
    const entry = this.enter(meta, td)
    try {
      return this.commit(
        entry,
        { records: [{ op: 'td.restore', td: id, name, snapshot }], value: this.view(entry) },
        idem,
        true
      )
    } catch (error) {
      this.tds.delete(id)
      throw error
    }
  }

  list(): TdView[] {
    return [...this.tds.values()].map((entry) => this.view(entry))
  }

  show(id: string): TdView {
    return this.view(this.entry(id))
  }

  /**
   * Deletes a TD after the commands already queued on it; `force` deletes it now and the queued
   * commands fail with E_NO_TD. A failed TD can be deleted (its only way out besides a restart).
   */
  async delete(
    id: string,
    options: { force?: boolean } = {},
    idem?: Idempotency<null>
  ): Promise<void> {
    const entry = this.entry(id)
    const remove = (): null => {
      if (this.tds.get(id) !== entry) throw noTd(id)
      this.commit(undefined, { records: [{ op: 'td.delete', td: id }], value: null }, idem)
      this.tds.delete(id)
      for (const listener of this.endListeners) listener(id)
      return null
    }
    if (options.force === true) remove()
    else await entry.queue.run(remove)
  }

  /** Guest VSM state of the partition and of each VP (registers as the VP's active VTL reads them). */
  async status(id: string): Promise<unknown> {
    return await this.read(id, (entry) => {
      const { engine } = entry.td
      const vps = []
      let partitionStatus: string | undefined
      for (let vp = 0; vp < entry.meta.vps; vp++) {
        const state = engine.vp(vp)
        const vtl: GuestVtl = state.exitVtl
        const vpStatus = getVpRegister(engine, vp, vtl, vtl, HvRegisterName.VsmVpStatus)
        if (partitionStatus === undefined) {
          const read = getVpRegister(engine, vp, vtl, vtl, HvRegisterName.VsmPartitionStatus)
          partitionStatus = formatHex(read.value)
        }
        vps.push({
          vp,
          activeVtl: vtl,
          vtl1Enabled: engine.shared.vtl1EnableCalled(vp),
          vsmVpStatus: formatHex(vpStatus.value),
          readStatus: hvStatusName(vpStatus.status) ?? formatHex(vpStatus.status),
        })
      }
      return {
        id,
        partition: {
          guestVsmState: VSM_STATE_NAMES[engine.guestVsmState] ?? String(engine.guestVsmState),
          vsmPartitionStatus: partitionStatus ?? '0x0',
        },
        vps,
      }
    })
  }

  // ---- guest steps ----

  /**
   * Performs step objects in order (all validated first: a bad one runs nothing). A `vtl`
   * assertion that does not hold stops there with E_VTL_MISMATCH; the steps before it stay
   * applied and journaled.
   */
  async steps(
    id: string,
    sources: readonly StepSource[],
    idem?: Idempotency<StepDone[]>
  ): Promise<StepDone[]> {
    const entry = this.entry(id)
    for (const source of sources) {
      if (typeof source.vp === 'number') this.checkVp(entry, source.vp)
    }
    return await this.mutate(id, idem, (current) => this.performSteps(current, sources))
  }

  private performSteps(entry: TdEntry, sources: readonly StepSource[]): Mutation<StepDone[]> {
    const steps = parseSteps(entry.meta, sources)
    const records: StepRecord[] = []
    const done: StepDone[] = []
    for (const [index, step] of steps.entries()) {
      records.push({ op: 'step', td: entry.meta.td, step: JSON.stringify(sources[index]) })
      const outcome = tryStep(entry.td, step)
      if ('panic' in outcome) return panicked(records, index, outcome.panic)
      if (outcome.result === undefined) {
        const before = index === 0 ? 'no step before it ran' : `steps 0..${index - 1} were applied`
        return {
          records,
          error: new ProblemError(
            'E_VTL_MISMATCH',
            `step ${index}: VP ${step.vp} acts at VTL${outcome.vtl}, not VTL${step.vtl ?? '?'}; ` +
              `nothing of it ran (${before} and journaled)`
          ),
        }
      }
      done.push({
        index,
        vp: step.vp,
        vtl: outcome.vtl,
        action: step.action.kind,
        result: outcome.result,
      })
    }
    return { records, value: done }
  }

  /** One step's result (the typed routes and the raw hypercall). */
  private async step(
    id: string,
    vp: number,
    source: StepSource,
    idem: Idempotency<StepResult> | undefined
  ): Promise<StepResult> {
    this.checkVp(this.entry(id), vp)
    return await this.mutate(id, idem, (entry) => {
      const mutation = this.performSteps(entry, [source])
      if (mutation.error !== undefined) return mutation
      return { records: mutation.records, value: mutation.value[0]?.result ?? {} }
    })
  }

  /** Issues a raw hypercall from a VP; journaled before the answer is returned. */
  async hypercall(
    id: string,
    spec: HypercallSpec,
    idem?: Idempotency<StepResult>
  ): Promise<StepResult> {
    return await this.step(
      id,
      spec.vp,
      {
        vp: spec.vp,
        ...(spec.vtl === undefined ? {} : { vtl: spec.vtl }),
        hypercall: {
          code: spec.code,
          input: Buffer.from(spec.input).toString('hex'),
          repStart: spec.repStart,
          repCount: spec.repCount,
          varHeaderSize: spec.varHeaderSize,
          fast: spec.fast,
        },
      },
      idem
    )
  }

  async enablePartitionVtl(
    id: string,
    spec: { vp: number; targetVtl: number; mbec: boolean },
    idem?: Idempotency<StepResult>
  ): Promise<StepResult> {
    return await this.step(
      id,
      spec.vp,
      enablePartitionVtlStep(spec.vp, spec.targetVtl, spec.mbec),
      idem
    )
  }

  async enableVpVtl(
    id: string,
    spec: { vp: number; targetVp: number; targetVtl: number; context?: ContextSource | undefined },
    idem?: Idempotency<StepResult>
  ): Promise<StepResult> {
    return await this.step(
      id,
      spec.vp,
      enableVpVtlStep(spec.vp, spec.targetVp, spec.targetVtl, spec.context),
      idem
    )
  }

  async startVp(
    id: string,
    spec: { vp: number; targetVp: number; targetVtl: number; context?: ContextSource | undefined },
    idem?: Idempotency<StepResult>
  ): Promise<StepResult> {
    return await this.step(
      id,
      spec.vp,
      startVpStep(spec.vp, spec.targetVp, spec.targetVtl, spec.context),
      idem
    )
  }

  async setPartitionConfig(
    id: string,
    spec: { vp: number; value: bigint },
    idem?: Idempotency<StepResult>
  ): Promise<StepResult> {
    return await this.step(id, spec.vp, setPartitionConfigStep(spec.vp, spec.value), idem)
  }

  /** HvRegisterVsmPartitionConfig as `vp`'s active VTL reads it (no guest step). */
  async partitionConfig(id: string, vp: number): Promise<PartitionConfigRead> {
    this.checkVp(this.entry(id), vp)
    return await this.read(id, (entry) => {
      const { engine } = entry.td
      const vtl = engine.vp(vp).exitVtl
      const read = getVpRegister(engine, vp, vtl, vtl, HvRegisterName.VsmPartitionConfig)
      return {
        vp,
        vtl,
        value: formatHex(read.value),
        status: hvStatusName(read.status) ?? formatHex(read.status),
      }
    })
  }

  // ---- memory ----

  /** Typed rep calls over a range (one per chunk of GPNs), stopping at the first failure. */
  private async rangeCalls(
    id: string,
    vp: number,
    sources: StepSource[],
    idem: Idempotency<RangeResult> | undefined
  ): Promise<RangeResult> {
    this.checkVp(this.entry(id), vp)
    return await this.mutate(id, idem, (entry) => {
      const steps = parseSteps(entry.meta, sources)
      const records: StepRecord[] = []
      let processed = 0
      let last: StepResult = {}
      for (const [index, step] of steps.entries()) {
        records.push({ op: 'step', td: entry.meta.td, step: JSON.stringify(sources[index]) })
        const outcome = tryStep(entry.td, step)
        if ('panic' in outcome) return panicked(records, index, outcome.panic)
        last = outcome.result ?? {}
        processed += typeof last.repsCompleted === 'number' ? last.repsCompleted : 0
        if (last.status !== 'Success') break
      }
      return { records, value: { ...last, processed } }
    })
  }

  /** HvCallModifyVtlProtectionMask over `[start, start + size)`. */
  async protect(
    id: string,
    spec: {
      vp: number
      targetVtl?: number | undefined
      start: bigint
      size: bigint
      flags: number
    },
    idem?: Idempotency<RangeResult>
  ): Promise<RangeResult> {
    return await this.rangeCalls(
      id,
      spec.vp,
      protectSteps(spec.vp, spec.targetVtl, spec.start, spec.size, spec.flags),
      idem
    )
  }

  /** HvCallModifySparseGpaPageHostVisibility over `[start, start + size)`: shared or private. */
  async hostVisibility(
    id: string,
    spec: { vp: number; start: bigint; size: bigint; shared: boolean },
    idem?: Idempotency<RangeResult>
  ): Promise<RangeResult> {
    return await this.rangeCalls(
      id,
      spec.vp,
      hostVisibilitySteps(spec.vp, spec.shared, spec.start, spec.size),
      idem
    )
  }

  /** The paravisor accepts private RAM (TDG.MEM.PAGE.ACCEPT); answers the bytes accepted. */
  async accept(
    id: string,
    range: { start: bigint; size: bigint },
    idem?: Idempotency<{ accepted: string; status: string }>
  ): Promise<{ accepted: string; status: string }> {
    return await this.mutate(id, idem, (entry) => {
      const end = range.start + range.size
      let outcome
      try {
        outcome = entry.td.space.acceptPages({ start: range.start, end })
      } catch (error) {
        if (!VtlError.isInstance(error)) throw error
        const code = error.code === 'E_ALREADY_ACCEPTED' ? 'E_MEMORY_STATE' : 'E_BAD_RANGE'
        throw new ProblemError(code, `${error.message} (${error.code})`)
      }
      const status = hvStatusName(outcome.status) ?? formatHex(outcome.status)
      return {
        records: [
          {
            op: 'mem.accept',
            td: entry.meta.td,
            start: formatHex(range.start),
            end: formatHex(end),
          },
        ],
        value: { accepted: formatHex(status === 'Success' ? range.size : 0n), status },
      }
    })
  }

  /** The page runs overlapping a range (default: the TD's RAM), paged by `cursor`/`limit`. */
  async runs(
    id: string,
    query: {
      start?: bigint | undefined
      size?: bigint | undefined
      cursor?: bigint | undefined
      limit: number
    }
  ): Promise<{ runs: RunWire[]; next: string | null }> {
    return await this.read(id, (entry) => {
      const start = query.start ?? 0n
      const end = start + (query.size ?? BigInt(entry.meta.memory) - start)
      let page
      try {
        page = entry.td.space.runs(
          { start, end },
          { limit: query.limit, ...(query.cursor === undefined ? {} : { cursor: query.cursor }) }
        )
      } catch (error) {
        if (!VtlError.isInstance(error)) throw error
        throw new ProblemError('E_BAD_RANGE', `${error.message} (${error.code})`)
      }
      return {
        runs: page.runs.map(({ start: s, end: e, state }) => ({
          start: formatHex(s),
          size: formatHex(e - s),
          kind: state.kind,
          visibility: state.shared ? 'shared' : 'private',
          accepted: state.accepted,
          locked: state.locked,
          vtl0: formatPermissionText(state.vtl0),
          vtl1: formatPermissionText(state.vtl1),
          overlay: state.overlay,
        })),
        next: page.next === undefined ? null : formatHex(page.next),
      }
    })
  }

  // ---- trace and snapshots ----

  /** The TD's trace as Chrome trace-event JSON (Perfetto); `limit`: only the newest events. */
  async trace(
    id: string,
    limit?: number
  ): Promise<{ traceEvents: ChromeTraceEvent[]; displayTimeUnit: 'ns' }> {
    return await this.read(id, (entry) => {
      const trace = entry.td.trace
      if (limit === undefined || limit >= trace.size) return trace.toChromeTrace()
      const json = trace.toJSON()
      return Trace.fromJSON({
        ...json,
        events: json.events.slice(json.events.length - limit),
      }).toChromeTrace()
    })
  }

  /** The TD's kept trace events after `afterSeq` (what a stream resumes from). */
  async traceEvents(id: string, afterSeq: number): Promise<TraceEvent[]> {
    return await this.read(id, (entry) => entry.td.trace.events().filter((e) => e.seq > afterSeq))
  }

  /** The TD's snapshot document (`saveTd`'s JSON form, `version` 1). */
  async snapshotDocument(id: string): Promise<TdSnapshot> {
    return await this.read(id, (entry) => saveTd(entry.td))
  }

  private snapshot(entry: TdEntry): void {
    this.journal.saveSnapshot({ seq: entry.lastSeq, meta: entry.meta, snapshot: saveTd(entry.td) })
    entry.sinceSnapshot = 0
  }

  /**
   * Snapshots every TD with records since its last snapshot, compacts the journal and expires old
   * Idempotency-Key answers (graceful shutdown calls it). Commands are synchronous, so between
   * two of them is always now.
   */
  checkpoint(): void {
    for (const entry of this.tds.values()) {
      if (entry.failure === undefined && entry.sinceSnapshot > 0) this.snapshot(entry)
    }
    this.maintain()
  }

  /** The answer kept for an Idempotency-Key, if a command journaled one. */
  idempotentAnswer(key: string): IdempotentAnswer | undefined {
    return this.journal.answer(key)
  }

  // ---- observation ----

  /** Calls `listener` after each command with the trace events it produced on a TD. */
  subscribe(listener: TraceListener): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  /**
   * Calls `listener` when a TD is deleted (its id) or streams are closed for shutdown
   * (`undefined`): open trace streams end then.
   */
  onEnd(listener: (td: string | undefined) => void): () => void {
    this.endListeners.add(listener)
    return () => {
      this.endListeners.delete(listener)
    }
  }

  /** Ends every open trace stream and refuses new ones (the first step of a graceful shutdown). */
  closeStreams(): void {
    this.streamsClosed = true
    for (const listener of this.endListeners) listener(undefined)
  }

  /** False once `closeStreams` ran. */
  get streaming(): boolean {
    return !this.streamsClosed
  }

  private publish(entry: TdEntry): void {
    const trace = entry.td.trace
    const total = recorded(trace)
    const fresh = total - entry.seen
    entry.seen = total
    if (fresh <= 0 || this.listeners.size === 0) return
    const events = trace.events()
    const mine = events.slice(events.length - Math.min(fresh, events.length))
    for (const listener of this.listeners) {
      // The command already committed: an observer's failure must not fail it.
      try {
        listener(entry.meta.td, mine)
      } catch {
        // ignored: observers report their own failures
      }
    }
  }

  /** Waits for every queued command of every TD. */
  async drain(): Promise<void> {
    await Promise.all([...this.tds.values()].map((entry) => entry.queue.drain()))
  }
}
