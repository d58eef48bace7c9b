import { performStep, restoreTd } from '@vtl/sim'
import { parseSteps, type StepSource } from './guest-steps.js'
import type { HypercallRecord, Journal, JournalRecord } from './journal.js'
import { tryStep } from './step-runner.js'
import { buildTd, enterTd, restoredMeta, type TdEntry, type TdTable } from './td-entry.js'

/** Rebuilds the journal's TDs into `tds`: each from its snapshot, then the records after it. */
export function replayJournal(journal: Journal, tds: TdTable): void {
  const covered = new Map<string, number>()
  for (const stored of journal.snapshots()) {
    const entry = enterTd(tds, stored.meta, restoreTd(stored.snapshot))
    entry.lastSeq = stored.seq
    covered.set(stored.meta.td, stored.seq)
  }
  for (const { seq, record } of journal.entries()) {
    if (seq <= (covered.get(record.td) ?? 0)) continue
    replay(tds, record)
    const entry = tds.get(record.td)
    if (entry !== undefined) {
      entry.lastSeq = seq
      entry.sinceSnapshot++
    }
  }
}

function replay(tds: TdTable, record: JournalRecord): void {
  switch (record.op) {
    case 'td.create':
      buildTd(tds, record)
      return
    case 'td.restore':
      enterTd(
        tds,
        restoredMeta(record.td, record.name, record.snapshot),
        restoreTd(record.snapshot)
      )
      return
    case 'td.delete':
      tds.delete(record.td)
      return
  }
  const entry = tds.get(record.td)
  if (entry === undefined) return
  switch (record.op) {
    case 'hypercall':
      applyLegacyHypercall(entry, record)
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

/** The first vtld journaled raw hypercalls; they still replay. */
function applyLegacyHypercall(entry: TdEntry, record: HypercallRecord): void {
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
