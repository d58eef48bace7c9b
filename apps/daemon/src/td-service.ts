import { randomUUID } from 'node:crypto'
import { VtlError, hvStatusName } from '@vtl/core'
import { formatHex } from '@vtl/core/schemas'
import {
  Trace,
  restoreTdSliced,
  saveTd,
  saveTdSliced,
  type ChromeTraceEvent,
  type ScenarioStep,
  type SimTd,
  type SnapshotLimits,
  type StepResult,
  type TdSnapshot,
  type TraceEvent,
} from '@vtl/sim'
import {
  enablePartitionVtlStep,
  enableVpVtlStep,
  hostVisibilitySteps,
  parseStepsSliced,
  protectSteps,
  rawHypercallStep,
  setPartitionConfigStep,
  startVpStep,
  type ContextSource,
  type StepSource,
} from './guest-steps.js'
import {
  Journal,
  type CreateRecord,
  type IdempotentAnswer,
  type RestoreRecord,
  type TdMeta,
} from './journal.js'
import { stringifySliced } from './sliced-json.js'
import { TD_LIMITS, stepsCost, type TdLimits } from './limits.js'
import { HTTP_STATUS, ProblemError, problem } from './problem.js'
import { runRangeSteps, runSteps, type Mutation } from './step-runner.js'
import {
  DEFAULT_TRACE_LIMIT,
  buildTd,
  byCreation,
  enterTd,
  recorded,
  restoredMeta,
  type TdEntry,
  type TdTable,
} from './td-entry.js'
import { rebuildTd, replayJournal } from './td-replay.js'
import type {
  HypercallSpec,
  Idempotency,
  PartitionConfigRead,
  RangeResult,
  RunWire,
  StepDone,
  TdServiceOptions,
  TdSpec,
  TdView,
  TraceListener,
} from './td-types.js'
import { partitionConfigRead, runsPage, tdStatus, tdView, traceJson } from './td-views.js'
import { KeptAnswers } from './kept-answers.js'
import { TimeSlice } from './time-slice.js'
import { TraceFanout, type FrameListener } from './trace-fanout.js'
import type { TdBackend } from './backend.js'
import { servedSim, type ServedTd } from './served-td.js'

/** The answer an Idempotency-Key keeps for a command: its value, or the problem it ended with. */
function answerOf<T>(
  idem: Idempotency<T> | undefined,
  mutation: Mutation<T>
): IdempotentAnswer | undefined {
  if (idem === undefined) return undefined
  const rendered =
    mutation.error === undefined
      ? idem.render(mutation.value)
      : {
          status: HTTP_STATUS[mutation.error.code],
          body: JSON.stringify(
            problem(mutation.error.code, mutation.error.message, mutation.error.extra)
          ),
        }
  return { key: idem.key, fingerprint: idem.fingerprint, ...rendered }
}

/** The status view's JSON text, from the entry's cache when no command ran since. */
function statusText(entry: TdEntry): string {
  const cached = entry.statusCache
  if (cached?.version === entry.version && cached.td === entry.td) return cached.text
  const text = JSON.stringify(tdStatus(entry.meta.td, entry))
  if (entry.td.sim !== undefined) entry.statusCache = { version: entry.version, td: entry.td, text }
  return text
}

function noTd(id: string): ProblemError {
  return new ProblemError('E_NO_TD', `no TD with id ${id}`)
}

/** The software TD behind an entry, for what only it has (snapshots); else E_UNSUPPORTED. */
function simOf(entry: TdEntry, what: string): SimTd {
  const td = entry.td.sim
  if (td === undefined) {
    throw new ProblemError(
      'E_UNSUPPORTED',
      `TD ${entry.meta.td} runs on the ${entry.td.backend} backend, which has no ${what}`
    )
  }
  return td
}

/** A command as written to the journal: its last record (none: it journaled nothing). */
interface Written<T> {
  seq: number | undefined
  mutation: Mutation<T>
  /** The trace events it produced, handed to observers once it is durable. */
  events: readonly TraceEvent[]
}

/** A due snapshot is taken this long after the TD's last command (its cost stays off a burst). */
const SNAPSHOT_IDLE_MS = 100
/** ... or at once when this many intervals' records piled up (a TD that is never idle). */
const SNAPSHOT_OVERDUE = 4
/** A TD's failure once a write of its records failed after its command ran. */
const JOURNAL_WRITE_FAILED = 'a journal write failed after a command was applied'

/** The refusal of a command whose journal record could not be written. */
function lostWrite(td: string, why: string): ProblemError {
  return new ProblemError('E_INTERNAL', `journal write failed (${why}); TD ${td} is marked failed`)
}

/**
 * The daemon's TDs, each with its own serialised command queue: software TDs (journaled, replayed
 * on start), or with `--backend hw` new TDs on the hardware path (served for the daemon's life).
 */
export class TdService {
  private readonly tds: TdTable = new Map()
  /** Hardware-path TDs opened so far: with the journal's high seq, their `td list` place. */
  private opened = 0
  private readonly journal: Journal
  private readonly snapshotEvery: number
  private readonly snapshotIdleMs: number
  private readonly traceLimit: number
  private readonly answerTtlMs: number
  private readonly now: () => number
  private readonly fanout = new TraceFanout()
  private readonly keptAnswers: KeptAnswers
  private readonly snapshotLimits: SnapshotLimits
  private readonly limits: TdLimits
  private readonly backend: TdBackend

  /** Without a journal the TDs live in an in-memory one (tests, throwaway daemons). */
  constructor(journal: Journal = new Journal(':memory:'), options: TdServiceOptions = {}) {
    this.journal = journal
    this.snapshotEvery = options.snapshotEvery ?? 256
    this.snapshotIdleMs = options.snapshotIdleMs ?? SNAPSHOT_IDLE_MS
    this.traceLimit = options.traceLimit ?? DEFAULT_TRACE_LIMIT
    this.answerTtlMs = options.answerTtlMs ?? 24 * 3600 * 1000
    this.keptAnswers = new KeptAnswers({ ttlMs: this.answerTtlMs })
    this.now = options.now ?? Date.now
    this.backend = options.backend ?? { kind: 'sim' }
    if (!Number.isSafeInteger(this.snapshotEvery) || this.snapshotEvery < 1) {
      throw new RangeError(`snapshotEvery must be a positive integer: ${this.snapshotEvery}`)
    }
    this.limits = { ...TD_LIMITS, ...options.limits }
    // The simulator's default ring (100 000) restores whatever this daemon's ring is.
    this.snapshotLimits = { maxTraceLimit: Math.max(this.traceLimit, 100_000) }
    replayJournal(journal, this.tds, this.snapshotLimits)
    this.maintain()
    // A command's records are written at its group commit: a TD whose records could not be
    // written is ahead of its journal from then on (its queued commands fail in `acknowledge`).
    journal.onWriteFailure((td) => {
      const entry = this.tds.get(td)
      if (entry !== undefined) entry.failure ??= JOURNAL_WRITE_FAILED
    })
  }

  /** Compaction of deleted TDs and expiry of old Idempotency-Key answers. */
  private maintain(): void {
    this.journal.compact()
    this.journal.dropAnswers(new Date(this.now() - this.answerTtlMs))
    this.keptAnswers.dropBefore(this.now() - this.answerTtlMs)
  }

  private entry(id: string): TdEntry {
    const entry = this.tds.get(id)
    if (entry === undefined) throw noTd(id)
    return entry
  }

  private checkName(name: string | undefined): void {
    if (name === undefined) return
    for (const entry of this.tds.values()) {
      if (entry.meta.name === name) {
        throw new ProblemError('E_TD_EXISTS', `a TD named ${name} exists (${entry.meta.td})`)
      }
    }
  }

  /** Refuses a new TD that would take the daemon past its TD, VP or memory limit. */
  private checkCapacity(vps: number, memory: bigint, self?: string): void {
    let tds = 1
    let allVps = vps
    let allMemory = memory
    for (const entry of this.tds.values()) {
      if (entry.meta.td === self) continue
      tds++
      allVps += entry.meta.vps
      allMemory += BigInt(entry.meta.memory)
    }
    const { maxTds, maxVps, maxMemory } = this.limits
    const over =
      tds > maxTds
        ? `maxTds (${maxTds} TDs)`
        : allVps > maxVps
          ? `maxVps (${maxVps} VPs over all TDs; ${allVps - vps} in use)`
          : allMemory > maxMemory
            ? `maxMemory (${formatHex(maxMemory)} bytes over all TDs; ${formatHex(allMemory - memory)} in use)`
            : undefined
    if (over !== undefined) {
      throw new ProblemError('E_LIMIT', `a new TD would exceed this daemon's limit ${over}`)
    }
  }

  /**
   * Refuses a request that costs more than `maxRequestCost` (its steps' reps, or a range's pages
   * known up front), before any of it runs.
   */
  private checkCost(cost: number): void {
    if (cost > this.limits.maxRequestCost) {
      throw new ProblemError(
        'E_TOO_COSTLY',
        `the request costs ${cost} (its steps' reps, at least 1 each), over this daemon's limit ` +
          `maxRequestCost ${this.limits.maxRequestCost}; split it`
      )
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
    // A hardware-path TD never writes the journal: a broken journal does not stop it.
    const broken = entry.td.sim === undefined ? undefined : this.journal.failure
    if (broken !== undefined) {
      throw new ProblemError('E_INTERNAL', `${broken}; vtld serves reads only, restart it`)
    }
    if (entry.failure !== undefined) {
      throw new ProblemError(
        'E_TD_FAILED',
        `TD ${id} failed (${entry.failure}); it only serves reads`
      )
    }
  }

  /**
   * Journals a mutation (and the idempotent answer) in one transaction; `acknowledge` answers it
   * once that is durable. A command on a TD is queued for its group commit; a TD's creation and a
   * deletion are written at once. A failed write after the command was applied leaves the TD ahead
   * of its journal: it is marked failed.
   */
  private commit<T>(
    entry: TdEntry | undefined,
    mutation: Mutation<T>,
    idem?: Idempotency<T>,
    created = false
  ): Written<T> {
    if (entry !== undefined && entry.td.sim === undefined) {
      // The hardware path is not journaled (no replay could recreate it): its events go out at
      // once, and an Idempotency-Key answer is kept in memory, as long as the TD lives.
      if (mutation.error !== undefined && mutation.panic !== undefined) {
        entry.failure = mutation.panic
      }
      if (mutation.records.length > 0) this.keep(answerOf(idem, mutation), entry.meta.td)
      return { seq: undefined, mutation, events: this.fanout.take(entry) }
    }
    if (mutation.records.length === 0) return { seq: undefined, mutation, events: [] }
    const answer = answerOf(idem, mutation)
    let seq: number
    try {
      seq =
        entry !== undefined && !created
          ? this.journal.queue(mutation.records, answer, mutation.texts)
          : this.journal.commit(mutation.records, answer, mutation.texts)
    } catch (error) {
      // A TD being created is dropped by the caller; one that ran a command is ahead now.
      const failed = entry !== undefined && !created
      if (failed) {
        entry.failure = JOURNAL_WRITE_FAILED
        this.fanout.publish(entry.meta.td, this.fanout.take(entry))
      }
      throw new ProblemError(
        'E_INTERNAL',
        `journal write failed (${error instanceof Error ? error.message : String(error)})` +
          (failed ? `; TD ${entry.meta.td} is marked failed` : '')
      )
    }
    if (entry === undefined) return { seq, mutation, events: [] }
    if (mutation.error !== undefined && mutation.panic !== undefined) {
      entry.failure = mutation.panic
    }
    entry.lastSeq = seq
    // A TD's first record is its create or restore record.
    entry.meta.created ??= seq
    entry.sinceSnapshot += mutation.records.length
    const events = this.fanout.take(entry)
    if (entry.sinceSnapshot >= this.snapshotEvery) this.snapshotDue(entry)
    return { seq, mutation, events }
  }

  /** Keeps a hardware-path command's Idempotency-Key answer (nothing of it is journaled). */
  private keep(answer: IdempotentAnswer | undefined, td?: string): void {
    if (answer !== undefined) this.keptAnswers.keep(answer, this.now(), td)
  }

  /**
   * Answers a written command once its records are durable (group commit): its value, or the
   * problem it ended with. Its trace events go to observers then, never before.
   */
  private async acknowledge<T>(entry: TdEntry | undefined, written: Written<T>): Promise<T> {
    if (written.seq !== undefined) {
      try {
        await this.journal.durable(written.seq)
      } catch (error) {
        // What is on disk is unknown: the TD may be ahead of its journal.
        if (entry !== undefined) entry.failure ??= 'the journal sync failed after a command ran'
        throw new ProblemError(
          'E_INTERNAL',
          (error instanceof Error ? error.message : String(error)) +
            (entry === undefined ? '' : `; TD ${entry.meta.td} is marked failed`)
        )
      }
      const lost = this.journal.writeFailure(written.seq)
      if (lost !== undefined && entry !== undefined) {
        // Its TD was marked failed when the write failed (`onWriteFailure`).
        this.fanout.publish(entry.meta.td, written.events)
        throw lostWrite(entry.meta.td, lost.message)
      }
    }
    if (entry !== undefined && written.events.length > 0) {
      this.fanout.publish(entry.meta.td, written.events)
    }
    if (written.mutation.error !== undefined) throw written.mutation.error
    return written.mutation.value
  }

  /**
   * A TD's snapshot is due. It is taken when the TD has been idle for `snapshotIdleMs` (a burst of
   * commands is not stalled by it), or right after the command when records of several intervals
   * piled up. It
   * runs on the TD's queue, between two commands; a failed snapshot loses nothing (its records
   * stay), so it only waits for the next interval.
   */
  private snapshotDue(entry: TdEntry): void {
    if (this.snapshotIdleMs === 0) {
      // Synchronous: taken before the command's answer.
      void this.snapshotNow(entry)
      return
    }
    // Overdue: right after this command's answer, not inside it.
    const overdue = entry.sinceSnapshot >= SNAPSHOT_OVERDUE * this.snapshotEvery
    if (entry.snapshotTimer !== undefined) {
      if (!overdue) {
        entry.snapshotTimer.refresh()
        return
      }
      clearTimeout(entry.snapshotTimer)
    }
    entry.snapshotTimer = setTimeout(
      () => {
        entry.snapshotTimer = undefined
        void entry.queue.run(async () => {
          if (this.tds.get(entry.meta.td) === entry && entry.sinceSnapshot >= this.snapshotEvery) {
            await this.snapshotNow(entry, true)
          }
        })
      },
      overdue ? 0 : this.snapshotIdleMs
    )
    entry.snapshotTimer.unref()
  }

  /** Takes a due snapshot now; `sliced` (on the TD's queue): giving the event loop turns. */
  private async snapshotNow(entry: TdEntry, sliced = false): Promise<void> {
    if (entry.snapshotTimer !== undefined) clearTimeout(entry.snapshotTimer)
    entry.snapshotTimer = undefined
    if (entry.failure !== undefined) return
    try {
      if (sliced) await this.snapshotSliced(entry)
      else this.snapshot(entry)
      this.maintain()
    } catch {
      entry.sinceSnapshot = 0
    }
  }

  /** Runs a command on the TD's queue once the commands before it settled. */
  private async mutate<T>(
    id: string,
    idem: Idempotency<T> | undefined,
    command: (entry: TdEntry) => Mutation<T> | Promise<Mutation<T>>
  ): Promise<T> {
    const entry = this.entry(id)
    this.writable(id, entry)
    const written = await entry.queue.run(async () => {
      this.writable(id, entry)
      entry.version++
      const mutation = await this.atomic(entry, command)
      // Deleted (force) while the command gave the event loop a turn: nothing is journaled.
      if (this.tds.get(id) !== entry) throw noTd(id)
      // Failed meanwhile (another flush lost a record of it, a sync failed): after a lost record
      // nothing of the TD is journaled or acknowledged, so a restart never replays over a gap.
      if (entry.failure !== undefined) throw this.failedMeanwhile(entry)
      return this.commit(entry, mutation, idem)
    })
    return await this.acknowledge(entry, written)
  }

  /** The refusal of a command whose TD failed while it ran (its effects are not journaled). */
  private failedMeanwhile(entry: TdEntry): ProblemError {
    const id = entry.meta.td
    this.fanout.publish(id, this.fanout.take(entry))
    const lost = this.journal.writeFailureOf(id)
    if (lost !== undefined) return lostWrite(id, lost)
    return new ProblemError(
      'E_INTERNAL',
      `TD ${id} failed while the command ran (${entry.failure ?? ''}); it is not journaled`
    )
  }

  /**
   * Runs a command so that it either commits or changes nothing: a typed refusal (ProblemError)
   * comes before any change; any other error may leave the TD half-changed, so the TD is rebuilt
   * from its journal (its state after the last committed command), or, if that fails too, marked
   * failed and unreadable.
   */
  private async atomic<T>(
    entry: TdEntry,
    command: (entry: TdEntry) => Mutation<T> | Promise<Mutation<T>>
  ): Promise<Mutation<T>> {
    try {
      return await command(entry)
    } catch (error) {
      if (error instanceof ProblemError) throw error
      const why = error instanceof Error ? error.message : String(error)
      const id = entry.meta.td
      let rebuilt: TdEntry | undefined
      try {
        // A hardware-path TD has no journal to be rebuilt from.
        rebuilt =
          entry.td.sim === undefined ? undefined : rebuildTd(this.journal, id, this.snapshotLimits)
      } catch {
        rebuilt = undefined
      }
      if (rebuilt === undefined || rebuilt.failure !== undefined) {
        entry.failure = `a command failed unexpectedly (${why}) and the TD could not be rebuilt`
        entry.unreadable = true
        this.fanout.publish(id, this.fanout.take(entry))
        throw new ProblemError('E_INTERNAL', `${entry.failure}; TD ${id} is marked failed`)
      }
      entry.td = rebuilt.td
      entry.seen = recorded(rebuilt.td.trace)
      throw new ProblemError(
        'E_INTERNAL',
        `the command failed unexpectedly (${why}); nothing of it was applied: TD ${id} is in ` +
          'its state before it (rebuilt from the journal)'
      )
    }
  }

  /**
   * A query between two commands (at once when the TD's queue is empty), answered once the state
   * it saw is durable. A `sliced` query (one that yields the event loop) always runs on the queue,
   * so no command changes the TD before it is done.
   */
  private async read<T>(
    id: string,
    query: (entry: TdEntry) => T | Promise<T>,
    sliced = false
  ): Promise<T> {
    const entry = this.entry(id)
    let seen: number
    let value: T
    if (entry.queue.depth === 0 && !sliced) {
      // The common case, without a closure: nothing can run on the TD before the query.
      seen = this.readable(id, entry)
      value = await query(entry)
    } else {
      seen = 0
      value = await entry.queue.run(() => {
        seen = this.readable(id, entry)
        return query(entry)
      })
    }
    if (seen > this.journal.durableSeq) {
      try {
        await this.journal.durable(seen)
      } catch (error) {
        throw new ProblemError('E_INTERNAL', error instanceof Error ? error.message : String(error))
      }
    }
    return value
  }

  /** Refuses a read of a deleted or unreadable TD; answers the last record the read sees. */
  private readable(id: string, entry: TdEntry): number {
    if (this.tds.get(id) !== entry) throw noTd(id)
    if (entry.unreadable) {
      throw new ProblemError('E_TD_FAILED', `TD ${id} failed (${entry.failure}); delete it`)
    }
    return entry.lastSeq
  }

  // ---- TDs ----

  /** A new TD on the service's backend (`create` on `sim`; the hardware path opens it first). */
  async open(spec: TdSpec, idem?: Idempotency<TdView>): Promise<TdView> {
    if (this.backend.kind === 'sim') return this.create(spec, idem)
    this.checkSpec(spec)
    this.checkCapacity(spec.vps, spec.memory)
    let td: ServedTd
    try {
      td = await this.backend.open(spec, new Trace({ limit: this.traceLimit }))
    } catch (error) {
      if (VtlError.isInstance(error)) {
        throw new ProblemError('E_BAD_TD', `${error.message} (${error.code})`)
      }
      throw error
    }
    // Checked again: other TDs may have been created while this one opened.
    try {
      this.checkName(spec.name)
      this.checkCapacity(spec.vps, spec.memory)
    } catch (error) {
      await td.close()
      throw error
    }
    const { name, vps, gpaWidth, mbec } = spec
    const id = `td-${randomUUID().slice(0, 8)}`
    // After every TD in the journal (a hw daemon creates no software TD) and every earlier one.
    const created = this.journal.highSeq + ++this.opened
    const meta = { td: id, name, vps, memory: formatHex(spec.memory), gpaWidth, mbec, created }
    const view = tdView(enterTd(this.tds, meta, td))
    this.keep(answerOf(idem, { records: [], value: view }), id)
    return view
  }

  private checkSpec(spec: TdSpec): void {
    this.checkName(spec.name)
    const started = spec.startedVps ?? []
    if (started.some((vp) => vp >= spec.vps) || new Set(started).size !== started.length) {
      throw new ProblemError('E_BAD_TD', `startedVps must list distinct VPs below ${spec.vps}`)
    }
  }

  /** A new software TD (journaled), whatever the service's backend. */
  async create(spec: TdSpec, idem?: Idempotency<TdView>): Promise<TdView> {
    this.checkSpec(spec)
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
      entry = buildTd(this.tds, record)
    } catch (error) {
      // The simulator refuses a geometry the schema cannot see (alignment, GPA width): bad input.
      if (VtlError.isInstance(error)) {
        throw new ProblemError('E_BAD_TD', `${error.message} (${error.code})`)
      }
      throw error
    }
    let written: Written<TdView>
    try {
      // After the build (a bad geometry is 400 first), before anything is journaled.
      this.checkCapacity(spec.vps, spec.memory, record.td)
      written = this.commit(entry, { records: [record], value: tdView(entry) }, idem, true)
    } catch (error) {
      this.tds.delete(record.td)
      throw error
    }
    return await this.acknowledge(entry, written)
  }

  /** A new TD in the state of a snapshot document (`saveTd`'s JSON form). */
  async restore(
    name: string | undefined,
    snapshot: TdSnapshot,
    idem?: Idempotency<TdView>
  ): Promise<TdView> {
    if (this.backend.kind !== 'sim') {
      throw new ProblemError(
        'E_UNSUPPORTED',
        `this vtld serves the ${this.backend.kind} backend: a snapshot restores a software TD`
      )
    }
    // Counted from the options before anything is built (validation checks them first).
    const { options } = snapshot as { options?: { vps?: unknown; memory?: unknown } }
    const admit = (): void => {
      this.checkName(name)
      if (typeof options?.vps === 'number' && typeof options.memory === 'string') {
        this.checkCapacity(
          options.vps,
          /^0x[0-9a-f]{1,16}$/.test(options.memory) ? BigInt(options.memory) : 0n
        )
      }
    }
    admit()
    const id = `td-${randomUUID().slice(0, 8)}`
    let td: SimTd
    let meta: TdMeta
    try {
      // Built aside in slices (the event loop is served meanwhile): no one sees it until entered.
      td = await restoreTdSliced(snapshot, { limits: this.snapshotLimits })
      meta = restoredMeta(id, name, snapshot)
    } catch (error) {
      throw new ProblemError(
        'E_BAD_SNAPSHOT',
        `cannot restore the snapshot: ${error instanceof Error ? error.message : String(error)}`,
        VtlError.isInstance(error) && error.field !== undefined ? { field: error.field } : {}
      )
    }
    const record: RestoreRecord = { op: 'td.restore', td: id, name, snapshot }
    const text = await stringifySliced(record)
    // Other TDs were created or restored while it was built: the name and limits again.
    admit()
    const entry = enterTd(this.tds, meta, servedSim(td))
    let written: Written<TdView>
    try {
      written = this.commit(
        entry,
        { records: [record], texts: [text], value: tdView(entry) },
        idem,
        true
      )
    } catch (error) {
      this.tds.delete(id)
      throw error
    }
    return await this.acknowledge(entry, written)
  }

  /** Every TD in creation order (the journal seq of its create or restore record), restarts too. */
  list(): TdView[] {
    return [...this.tds.values()].sort(byCreation).map((entry) => tdView(entry))
  }

  show(id: string): TdView {
    return tdView(this.entry(id))
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
    const remove = (): Written<null> => {
      if (this.tds.get(id) !== entry) throw noTd(id)
      const deletion: Mutation<null> = { records: [{ op: 'td.delete', td: id }], value: null }
      let written: Written<null>
      if (entry.td.sim === undefined) {
        // Its commands' answers go with it; the deletion's is kept (a retry is answered 204).
        this.keptAnswers.dropTd(id)
        this.keep(answerOf(idem, deletion))
        written = { seq: undefined, mutation: deletion, events: [] }
      } else {
        written = this.commit(undefined, deletion, idem)
      }
      this.tds.delete(id)
      if (entry.snapshotTimer !== undefined) clearTimeout(entry.snapshotTimer)
      this.fanout.ended(id)
      return written
    }
    await this.acknowledge(
      undefined,
      options.force === true ? remove() : await entry.queue.run(remove)
    )
    // Forced, a command may still run on it: the hardware path is released after its queue.
    if (entry.td.sim === undefined) await entry.queue.run(() => entry.td.close())
  }

  /** Guest VSM state of the partition and of each VP (registers as the VP's active VTL reads it). */
  async status(id: string): Promise<unknown> {
    return await this.read(id, (entry) => tdStatus(id, entry))
  }

  /**
   * `status` as its JSON text. A software TD's is kept until a command starts on it (its state
   * changes only through commands), so repeated reads cost neither the view nor its JSON.
   */
  async statusJson(id: string): Promise<string> {
    return await this.read(id, statusText)
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
    // Queued at once (commands keep their order), parsed once in slices on the queue: the cost
    // check and the run share it, and a refusal (400, 413) comes before any step runs.
    return await this.mutate(id, idem, async (current) => {
      // One slice for the parse and the run: the command yields once it used SLICE_MS in all.
      const slice = new TimeSlice()
      const parsed = await parseStepsSliced(current.meta, sources, slice)
      this.checkCost(stepsCost(parsed))
      return await runSteps(current, sources, parsed, slice)
    })
  }

  /**
   * One step's result (the typed routes and the raw hypercall); `built`: the step already made
   * from `source` (else the scenario parser makes it).
   */
  private async step(
    id: string,
    vp: number,
    source: StepSource,
    idem: Idempotency<StepResult> | undefined,
    built?: ScenarioStep
  ): Promise<StepResult> {
    this.checkVp(this.entry(id), vp)
    return await this.mutate(id, idem, async (entry) => {
      const mutation = await runSteps(entry, [source], built && [built])
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
    const { source, step } = rawHypercallStep(spec)
    return await this.step(id, spec.vp, source, idem, step)
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
    return await this.read(id, (entry) => partitionConfigRead(entry, vp))
  }

  // ---- memory ----

  /** Typed rep calls over a range as one command (`runRangeSteps`). */
  private async rangeCalls(
    id: string,
    vp: number,
    size: bigint,
    build: () => StepSource[],
    idem: Idempotency<RangeResult> | undefined
  ): Promise<RangeResult> {
    const entry = this.entry(id)
    this.checkVp(entry, vp)
    // One rep per page: the cost is known before the calls are even built.
    this.checkCost(Math.max(1, Number(size >> 12n)))
    const sources = build()
    return await this.mutate(id, idem, (current) => runRangeSteps(current, sources))
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
      spec.size,
      () => protectSteps(spec.vp, spec.targetVtl, spec.start, spec.size, spec.flags),
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
      spec.size,
      () => hostVisibilitySteps(spec.vp, spec.shared, spec.start, spec.size),
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
    return await this.read(id, (entry) => runsPage(entry, query))
  }

  // ---- trace and snapshots ----

  /** The TD's trace as Chrome trace-event JSON (Perfetto); `limit`: only the newest events. */
  async trace(
    id: string,
    limit?: number
  ): Promise<{ traceEvents: ChromeTraceEvent[]; displayTimeUnit: 'ns' }> {
    return await this.read(id, (entry) => traceJson(entry, limit))
  }

  /** The TD's kept trace events after `afterSeq` (what a stream resumes from). */
  async traceEvents(id: string, afterSeq: number): Promise<TraceEvent[]> {
    return await this.read(id, (entry) => entry.td.trace.since(afterSeq))
  }

  /** The TD's snapshot document (`saveTd`'s JSON form, `version` 1). */
  async snapshotDocument(id: string): Promise<TdSnapshot> {
    return await this.read(id, (entry) => saveTdSliced(simOf(entry, 'snapshots')), true)
  }

  private snapshot(entry: TdEntry): void {
    const td = simOf(entry, 'snapshots')
    this.journal.saveSnapshot({ seq: entry.lastSeq, meta: entry.meta, snapshot: saveTd(td) })
    entry.sinceSnapshot = 0
  }

  /**
   * `snapshot` in slices (a due snapshot on the TD's queue): the event loop gets turns while it
   * is taken and while its JSON is made; the TD is not stored if it was deleted meanwhile.
   */
  private async snapshotSliced(entry: TdEntry): Promise<void> {
    const snapshot = await saveTdSliced(simOf(entry, 'snapshots'))
    const text = await stringifySliced(snapshot)
    if (this.tds.get(entry.meta.td) !== entry) return
    this.journal.saveSnapshot({ seq: entry.lastSeq, meta: entry.meta, snapshot }, text)
    entry.sinceSnapshot = 0
  }

  /**
   * Snapshots every TD with records since its last snapshot, compacts the journal and expires old
   * Idempotency-Key answers. Graceful shutdown calls it once every queue drained: no command (they
   * yield the event loop in slices, and the hardware path answers asynchronously) runs meanwhile.
   */
  checkpoint(): void {
    for (const entry of this.tds.values()) {
      if (entry.snapshotTimer !== undefined) clearTimeout(entry.snapshotTimer)
      entry.snapshotTimer = undefined
      if (entry.failure !== undefined || entry.sinceSnapshot === 0) continue
      try {
        this.snapshot(entry)
      } catch {
        // Not snapshotted (its records stay): a TD whose write failed just now, a full disk.
      }
    }
    this.maintain()
  }

  /** Resolves once every command journaled so far is durable. */
  async settled(): Promise<void> {
    await this.journal.settled()
  }

  /**
   * The answer kept for an Idempotency-Key, if a command journaled one; given only once it is
   * durable (a retry must not be told what a crash could still take back). A hardware-path
   * command's is kept in memory (its TD does not outlive the daemon either).
   */
  async idempotentAnswer(key: string): Promise<IdempotentAnswer | undefined> {
    const answer = this.journal.answer(key)
    if (answer === undefined) return this.keptAnswers.get(key)
    await this.journal.settled()
    return answer
  }

  // ---- observation ----

  /** Calls `listener` after each command with the trace events it produced on a TD. */
  subscribe(listener: TraceListener): () => void {
    return this.fanout.subscribe(listener)
  }

  /**
   * Calls `listener` after each command on TD `id` with its trace events as SSE frames (one
   * array, serialised once, shared by every stream of the TD).
   */
  subscribeFrames(id: string, listener: FrameListener): () => void {
    return this.fanout.subscribeFrames(id, listener)
  }

  /**
   * Calls `listener` when a TD is deleted (its id) or streams are closed for shutdown
   * (`undefined`): open trace streams end then.
   */
  onEnd(listener: (td: string | undefined) => void): () => void {
    return this.fanout.onEnd(listener)
  }

  /** Ends every open trace stream and refuses new ones (the first step of a graceful shutdown). */
  closeStreams(): void {
    this.fanout.close()
  }

  /** False once `closeStreams` ran. */
  get streaming(): boolean {
    return this.fanout.streaming
  }

  /** Waits for every queued command of every TD. */
  async drain(): Promise<void> {
    await Promise.all([...this.tds.values()].map((entry) => entry.queue.drain()))
    await this.journal.settled().catch(() => undefined)
  }

  /** Releases the hardware-path TDs (fds, run pages, VP threads); after `drain`, on shutdown. */
  async close(): Promise<void> {
    await Promise.all([...this.tds.values()].map((entry) => entry.td.close()))
  }
}
