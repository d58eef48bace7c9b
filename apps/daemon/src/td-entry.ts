import { SimTd, type TdSnapshot, type Trace } from '@vtl/sim'
import { servedSim, type ServedTd } from './served-td.js'
import { CommandQueue } from './command-queue.js'
import type { CreateRecord, TdMeta } from './journal.js'

/** One TD the service holds, with its queue and journal bookkeeping. */
export interface TdEntry {
  meta: TdMeta
  td: ServedTd
  queue: CommandQueue
  /** Why the TD only serves reads: its journal fell behind, or its paravisor panicked. */
  failure: string | undefined
  /** The TD's state could not be rebuilt (replay refused it): it serves no reads either. */
  unreadable: boolean
  /** The seq of the TD's last journal record (what a snapshot now covers). */
  lastSeq: number
  /** Records since the TD's last snapshot. */
  sinceSnapshot: number
  /** Trace events handed to listeners so far (= the trace's recorded count then). */
  seen: number
  /** A due snapshot waiting for the TD to go idle. */
  snapshotTimer?: NodeJS.Timeout | undefined
  /** Bumped when a command starts on the TD (what its cached status view is checked against). */
  version: number
  /** The status view's JSON as of `version` on `td` (a software TD's only). */
  statusCache?: { version: number; td: ServedTd; text: string } | undefined
}

/** The service's TDs by id. */
export type TdTable = Map<string, TdEntry>

export const DEFAULT_TRACE_LIMIT = 16_384

/** Events the trace recorded in all (its ring keeps only the newest). */
export function recorded(trace: Trace): number {
  return trace.dropped + trace.size
}

/** Adds a TD to `tds`; its events so far count as already published. */
export function enterTd(tds: TdTable, meta: TdMeta, td: ServedTd): TdEntry {
  const entry: TdEntry = {
    meta,
    td,
    queue: new CommandQueue(),
    failure: undefined,
    unreadable: false,
    lastSeq: 0,
    sinceSnapshot: 0,
    seen: recorded(td.trace),
    version: 0,
  }
  tds.set(meta.td, entry)
  return entry
}

/** A new TD as a `td.create` record describes it, added to `tds`. */
export function buildTd(tds: TdTable, record: CreateRecord): TdEntry {
  const td = new SimTd({
    vps: record.vps,
    memory: BigInt(record.memory),
    gpaWidth: record.gpaWidth,
    mbecCapable: record.mbec,
    traceLimit: record.traceLimit ?? DEFAULT_TRACE_LIMIT,
    ...(record.startedVps === undefined ? {} : { startedVps: record.startedVps }),
  })
  const { td: id, name, vps, memory, gpaWidth, mbec } = record
  return enterTd(tds, { td: id, name, vps, memory, gpaWidth, mbec }, servedSim(td))
}

/** The meta of a TD restored from `snapshot`. */
export function restoredMeta(td: string, name: string | undefined, snapshot: TdSnapshot): TdMeta {
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

/** Creation order: the created seq, then the id (TDs from before vtld kept it tie at 0). */
export function byCreation(a: TdEntry, b: TdEntry): number {
  const order = (a.meta.created ?? 0) - (b.meta.created ?? 0)
  return order !== 0 ? order : a.meta.td < b.meta.td ? -1 : a.meta.td > b.meta.td ? 1 : 0
}
