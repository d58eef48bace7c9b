import { formatByteSize, formatHex } from '@vtl/core/schemas'
import { hexToBigint } from '../wire.js'
import { toJson } from './json.js'
import { renderTable } from './table.js'
import { resultText } from './timeline.js'

// Human forms of `vtld`'s answers (api-contract.md). Answers are the daemon's JSON, 64-bit
// values still `0x` hex strings; a field an older or newer daemon lacks prints as empty, and an
// answer that is not the expected shape prints as indented JSON rather than failing.

type Doc = Record<string, unknown>

const isDoc = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v)

function cell(v: unknown): string {
  if (v === undefined || v === null) return ''
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v)
  return JSON.stringify(v)
}

/** A byte count from the wire (`0x` hex or a number) with its unit, else as sent. */
function bytes(v: unknown): string {
  if (typeof v === 'string' && /^0x[0-9a-fA-F]+$/.test(v)) return formatByteSize(BigInt(v))
  if (typeof v === 'number' && Number.isSafeInteger(v)) return formatByteSize(BigInt(v))
  return cell(v)
}

const TD_COLUMNS = ['id', 'name', 'vps', 'memory', 'gpaWidth', 'mbec', 'state'] as const

function tdRow(td: Doc): string[] {
  return TD_COLUMNS.map((k) => (k === 'memory' ? bytes(td[k]) : cell(td[k])))
}

/** `GET /v1/tds`: one row per TD, `width` columns at most. */
export function renderTdList(answer: unknown, width: number): string {
  if (!isDoc(answer) || !Array.isArray(answer.tds)) return toJson(answer)
  const tds = answer.tds.filter(isDoc)
  if (tds.length === 0) return 'no TDs'
  return renderTable([...TD_COLUMNS], tds.map(tdRow), { width })
}

/** One TD (create, show, restore): field / value rows. */
export function renderTd(answer: unknown, width: number): string {
  if (!isDoc(answer)) return toJson(answer)
  return renderTable(
    ['field', 'value'],
    Object.entries(answer).map(([k, v]) => [k, k === 'memory' ? bytes(v) : cell(v)]),
    { width }
  )
}

/** `GET /v1/tds/{id}/status`: the partition line, then one row per VP. */
export function renderVsmStatus(answer: unknown, width: number): string {
  if (!isDoc(answer) || !isDoc(answer.partition) || !Array.isArray(answer.vps)) {
    return toJson(answer)
  }
  const p = answer.partition
  return [
    `${cell(answer.id)}: guest VSM ${cell(p.guestVsmState)}, VsmPartitionStatus ${cell(p.vsmPartitionStatus)}`,
    renderTable(
      ['VP', 'active VTL', 'VTL1 enabled', 'VsmVpStatus', 'read'],
      answer.vps
        .filter(isDoc)
        .map((vp) => [
          cell(vp.vp),
          cell(vp.activeVtl),
          vp.vtl1Enabled === true ? 'yes' : 'no',
          cell(vp.vsmVpStatus),
          cell(vp.readStatus),
        ]),
      { width }
    ),
  ].join('\n')
}

/** A hypercall-shaped answer (StepResult): `Success`, or its HvStatus, and what it returned. */
export function renderStepResult(answer: unknown): string {
  if (!isDoc(answer)) return toJson(answer)
  const text = resultText(answer)
  if (answer.activeVtl === undefined) return text
  const vtl = `VP in VTL${cell(answer.activeVtl)}`
  return text === '' ? vtl : `${text} (${vtl})`
}

/**
 * Whether a step result (a hypercall-shaped answer) is anything but success: an HvStatus other
 * than `Success`, an exception (#UD, #GP, #MC), `ok: false` (an intercepted or refused access),
 * a VP that could not act (`error`), or a failed TDG.VP.ENTER (`enterStatus`).
 */
export function stepFailed(answer: unknown): boolean {
  if (!isDoc(answer)) return false
  return (
    (typeof answer.status === 'string' && answer.status !== 'Success') ||
    answer.exception !== undefined ||
    answer.ok === false ||
    answer.error !== undefined ||
    answer.enterStatus !== undefined
  )
}

/** One performed step of `POST …/steps` (`{index, vp, vtl, action, result}`) as one line. */
export function renderStep(entry: unknown): string {
  if (!isDoc(entry)) return toJson(entry)
  return `VP${cell(entry.vp)} VTL${cell(entry.vtl)} ${cell(entry.action)}: ${renderStepResult(entry.result)}`
}

/** `GET …/vsm/partition-config`: the register as the VP's active VTL reads it. */
export function renderPartitionConfig(answer: unknown): string {
  if (!isDoc(answer) || answer.value === undefined) return renderStepResult(answer)
  return `HvRegisterVsmPartitionConfig = ${cell(answer.value)} (VP${cell(answer.vp)} at VTL${cell(answer.vtl)}: ${cell(answer.status)})`
}

/** One memory run in vtld's wire form (`mem show`, from a TD or a scenario). */
function runRow(r: Doc): string[] {
  const start = hexToBigint(r.start, 'a run start')
  const overlay = isDoc(r.overlay) ? r.overlay : {}
  const flags = [
    r.locked === true ? 'locked' : '',
    overlay.vtl0 === true ? 'overlay0' : '',
    overlay.vtl1 === true ? 'overlay1' : '',
  ]
    .filter((x) => x !== '')
    .join(' ')
  const visibility =
    r.kind !== 'ram'
      ? ''
      : r.visibility === 'shared'
        ? 'shared'
        : r.accepted === false
          ? 'not accepted'
          : cell(r.visibility)
  return [
    formatHex(start),
    formatHex(start + hexToBigint(r.size, 'a run size')),
    bytes(r.size),
    cell(r.kind),
    visibility,
    cell(r.vtl0),
    cell(r.vtl1),
    flags,
  ]
}

/**
 * `mem show`: the GPA runs of a vtld TD (`td`, every page of `GET …/memory/runs`) or of a
 * scenario's final memory (`scenario`), one schema for both.
 */
export function renderRuns(answer: unknown, width: number): string {
  if (!isDoc(answer) || !Array.isArray(answer.runs)) return toJson(answer)
  const runs = answer.runs.filter(isDoc)
  const what =
    answer.scenario === undefined ? cell(answer.td) : `${cell(answer.scenario)}: final GPA map`
  return [
    `${what}: ${runs.length} run(s)`,
    renderTable(
      ['start', 'end', 'size', 'kind', 'visibility', 'VTL0', 'VTL1', 'flags'],
      runs.map(runRow),
      { width }
    ),
  ].join('\n')
}

/**
 * A Chrome trace document: one line per event (time in µs, VP and VTL, name, arguments), in the
 * names `--follow` prints (the document's process is the VP, its thread the VTL).
 */
export function renderChromeTrace(answer: unknown): string {
  if (!isDoc(answer) || !Array.isArray(answer.traceEvents)) return toJson(answer)
  const events = answer.traceEvents.filter(isDoc).filter((e) => e.ph !== 'M')
  if (events.length === 0) return 'no events'
  return events
    .map((e) => {
      const args =
        isDoc(e.args) && Object.keys(e.args).length > 0 ? ` ${JSON.stringify(e.args)}` : ''
      return `${cell(e.ts).padStart(10)} µs  VP${cell(e.pid)} VTL${cell(e.tid)}  ${cell(e.name)}${args}`
    })
    .join('\n')
}

/** A streamed trace event (@vtl/sim TraceEvent): `#seq VPn VTLv kind name args`. */
export function renderTraceEvent(event: unknown): string {
  if (!isDoc(event)) return toJson(event, 0)
  const args =
    isDoc(event.args) && Object.keys(event.args).length > 0 ? ` ${JSON.stringify(event.args)}` : ''
  return `#${cell(event.seq)} VP${cell(event.vp)} VTL${cell(event.vtl)} ${cell(event.kind)} ${cell(event.name)}${args}`
}

/** Answers that are a file written or a TD gone. */
export function renderDone(answer: unknown): string {
  if (!isDoc(answer)) return toJson(answer)
  if (typeof answer.deleted === 'string') return `deleted ${answer.deleted}`
  if (typeof answer.file === 'string') {
    const size = answer.bytes === undefined ? '' : ` (${cell(answer.bytes)} bytes)`
    const events = answer.events === undefined ? '' : ` (${cell(answer.events)} events)`
    return `wrote ${answer.file}${size}${events}`
  }
  return toJson(answer)
}
