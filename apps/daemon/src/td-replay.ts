import { SimTd, performStep, restoreTd, type SnapshotLimits } from '@vtl/sim'
import { parseSteps, type StepSource } from './guest-steps.js'
import type { HypercallRecord, Journal, JournalRecord, TdMeta } from './journal.js'
import { tryStep } from './step-runner.js'
import { servedSim } from './served-td.js'
import { buildTd, enterTd, restoredMeta, type TdEntry, type TdTable } from './td-entry.js'

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/**
 * A TD whose state cannot be rebuilt (a snapshot or record its replay refused): it is listed as
 * failed with the reason, serves no reads, and can only be deleted. Its journal rows stay as they
 * are, so a later vtld (or a fixed journal) meets them again.
 */
function unrebuildable(tds: TdTable, meta: TdMeta, reason: string): TdEntry {
  const placeholder = new SimTd({ vps: 1, memory: 0x1000n, gpaWidth: 48, mbecCapable: false })
  const entry = enterTd(tds, meta, servedSim(placeholder))
  entry.failure = reason
  entry.unreadable = true
  return entry
}

/** The meta a create or restore record gives its TD (before anything of it is checked). */
function recordMeta(record: JournalRecord): TdMeta {
  if (record.op === 'td.create') {
    const { td, name, vps, memory, gpaWidth, mbec } = record
    return { td, name, vps, memory, gpaWidth, mbec }
  }
  if (record.op === 'td.restore') {
    const options = (record.snapshot as { options?: Partial<TdMeta & { mbecCapable: boolean }> })
      .options
    return {
      td: record.td,
      name: record.name,
      vps: typeof options?.vps === 'number' ? options.vps : 0,
      memory: typeof options?.memory === 'string' ? options.memory : '0x0',
      gpaWidth: options?.gpaWidth === 52 ? 52 : 48,
      mbec: options?.mbecCapable === true,
    }
  }
  return { td: record.td, name: undefined, vps: 0, memory: '0x0', gpaWidth: 48, mbec: false }
}

/**
 * Rebuilds the journal's TDs into `tds` (or only TD `only`): each from its snapshot, then the
 * records after it. One TD that cannot be rebuilt never stops the others: it comes up failed with
 * the reason (the snapshot or record that was refused).
 */
export function replayJournal(
  journal: Journal,
  tds: TdTable,
  limits?: SnapshotLimits,
  only?: string
): void {
  const covered = new Map<string, number>()
  for (const stored of journal.snapshots()) {
    if (only !== undefined && stored.meta.td !== only) continue
    let entry: TdEntry
    try {
      entry = enterTd(tds, stored.meta, servedSim(restoreTd(stored.snapshot, limits)))
    } catch (error) {
      entry = unrebuildable(
        tds,
        stored.meta,
        `its stored snapshot (up to journal record ${stored.seq}) cannot be restored: ${message(error)}`
      )
    }
    entry.lastSeq = stored.seq
    // A snapshot stored before vtld kept the creation seq: its own seq keeps the order stable.
    entry.meta.created ??= stored.seq
    covered.set(stored.meta.td, stored.seq)
  }
  for (const { seq, record } of journal.entries()) {
    if (only !== undefined && record.td !== only) continue
    if (seq <= (covered.get(record.td) ?? 0)) continue
    const before = tds.get(record.td)
    // A TD that failed takes no more records (the daemon journals none for it but its delete).
    if (before?.unreadable === true && record.op !== 'td.delete') continue
    try {
      replay(tds, record, limits)
    } catch (error) {
      const reason = `journal record ${seq} (${record.op}) cannot be replayed: ${message(error)}`
      if (before === undefined) unrebuildable(tds, recordMeta(record), reason)
      else {
        before.failure = reason
        before.unreadable = true
      }
    }
    const entry = tds.get(record.td)
    if (entry !== undefined) {
      entry.lastSeq = seq
      entry.meta.created ??= seq
      entry.sinceSnapshot++
    }
  }
}

/** TD `id` rebuilt from the journal alone (its state after its last committed record). */
export function rebuildTd(
  journal: Journal,
  id: string,
  limits?: SnapshotLimits
): TdEntry | undefined {
  const tds: TdTable = new Map()
  replayJournal(journal, tds, limits, id)
  return tds.get(id)
}

function replay(tds: TdTable, record: JournalRecord, limits?: SnapshotLimits): void {
  switch (record.op) {
    case 'td.create':
      buildTd(tds, record)
      return
    case 'td.restore':
      enterTd(
        tds,
        restoredMeta(record.td, record.name, record.snapshot),
        servedSim(restoreTd(record.snapshot, limits))
      )
      return
    case 'td.delete':
      tds.delete(record.td)
      return
  }
  const entry = tds.get(record.td)
  // Replay builds only software TDs (the hardware path is never journaled).
  const td = entry?.td.sim
  if (entry === undefined || td === undefined) return
  switch (record.op) {
    case 'hypercall':
      applyLegacyHypercall(td, record)
      return
    case 'step': {
      const [step] = parseSteps(entry.meta, [JSON.parse(record.step) as StepSource])
      if (step === undefined) return
      const outcome = tryStep(td, step)
      if ('panic' in outcome) entry.failure = outcome.panic
      return
    }
    case 'mem.accept':
      td.space.acceptPages({ start: BigInt(record.start), end: BigInt(record.end) })
      return
  }
}

/** The first vtld journaled raw hypercalls; they still replay. */
function applyLegacyHypercall(td: SimTd, record: HypercallRecord): void {
  performStep(td, record.vp, {
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
