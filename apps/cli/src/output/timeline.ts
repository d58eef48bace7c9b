import { registerName } from '@vtl/core'
import { formatHex } from '@vtl/core/schemas'
import type { GuestAction, ScenarioReport, SimTd, TraceEvent } from '@vtl/sim'
import type { Colors } from './colors.js'
import { wrapLine } from './width.js'

/** A short text for a scenario step's action. */
export function describeAction(action: GuestAction): string {
  const hex = formatHex
  const reg = (n: number): string => registerName(n) ?? formatHex(n)
  switch (action.kind) {
    case 'hypercall':
      return action.call.kind === 'typed'
        ? `hypercall ${action.call.name}`
        : `hypercall raw ${formatHex(action.call.code)}`
    case 'vtlCall':
      return 'VtlCall'
    case 'vtlReturn':
      return 'VtlReturn'
    case 'read':
      return `read ${action.size} B at ${hex(action.gpa)}`
    case 'write':
      return `write ${action.size} B at ${hex(action.gpa)} = ${hex(action.value)}`
    case 'execute':
      return `execute (${action.mode}) at ${hex(action.gpa)}`
    case 'setRegister':
      return `set ${reg(action.name)} = ${hex(action.value)}`
    case 'getRegister':
      return `get ${reg(action.name)}`
    case 'interrupt':
      return `interrupt vector ${formatHex(action.vector)} to VTL${action.vtl}`
    case 'run':
      return 'run'
    case 'eoi':
      return 'EOI'
    case 'fault':
      return `arm fault ${action.at} → ${action.status}`
    case 'io':
      return `${action.write ? 'OUT' : 'IN'} port ${formatHex(action.port)} (${action.size} B)`
    case 'writeCr':
      return `MOV CR${action.cr} = ${hex(action.value)}`
    case 'msr':
      return action.value === undefined
        ? `RDMSR ${formatHex(action.msr)}`
        : `WRMSR ${formatHex(action.msr)} = ${hex(action.value)}`
  }
}

/** A step result as one line: its status first, then the fields it carries as `key=value`. */
export function resultText(result: Record<string, unknown>): string {
  const parts: string[] = []
  for (const [k, v] of Object.entries(result)) {
    if (k === 'activeVtl') continue
    if (k === 'code' && 'status' in result) continue
    const text = typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)
    parts.push(k === 'status' || k === 'error' ? text : `${k}=${text}`)
  }
  return parts.join(' ')
}

function eventText(e: TraceEvent): string | undefined {
  switch (e.kind) {
    case 'vtl-switch':
      return `${e.name} (${String(e.args.reason ?? '')})`
    case 'intercept':
      return `intercept: ${e.name}${e.args.gpa === undefined ? '' : ` at ${String(e.args.gpa)}`} → VTL${e.vtl}`
    case 'wake':
      return `VP${e.vp} woken by VP${String(e.args.by ?? '?')}`
    case 'interrupt':
      return `interrupt ${e.name}`
    case 'fault':
      return `injected fault ${e.name}`
    case 'hypercall':
      return e.args.forwarded === true ? `host told: ${e.name}` : undefined
    default:
      return undefined
  }
}

/** Where a step line's action starts (`✓ ` time, VP and VTL): its continuation lines too. */
const STEP_INDENT = ' '.repeat(25)
/** A caused event's or a mismatch's continuation lines: under the text after `↳`. */
const EVENT_INDENT = ' '.repeat(8)

/**
 * A readable timeline of a run: one line per step (simulated time, VP, VTL, action, outcome,
 * TDCALLs it cost) and indented lines for what it caused (VTL switches, intercepts, wakes,
 * forwarded hypercalls). Needs a TD that recorded trace events. With `width`, lines wrap to it.
 */
export function formatTimeline(
  td: SimTd,
  report: ScenarioReport,
  actions: readonly GuestAction[],
  c: Colors,
  width?: number
): string {
  const perUs = td.clock.ghz * 1000
  const events = td.trace.events()
  const lines: string[] = []
  let stepIndex = -1
  let tdcalls = 0
  let pending: string[] = []
  const flush = (): void => {
    const step = report.steps[stepIndex]
    if (step === undefined) return
    const head = lines.length - 1
    if (tdcalls > 0 && lines[head] !== undefined) {
      lines[head] = `${lines[head]} ${c.dim(`[${tdcalls} TDCALL${tdcalls === 1 ? '' : 's'}]`)}`
    }
    lines.push(...pending)
    pending = []
    tdcalls = 0
  }
  for (const e of events) {
    if (e.kind === 'step') {
      flush()
      stepIndex++
      const step = report.steps[stepIndex]
      const action = actions[stepIndex]
      if (step === undefined || action === undefined) continue
      const t = `${(e.simCycles / perUs).toFixed(2).padStart(8)} µs`
      const mark = step.ok ? c.green('✓') : c.red('✗')
      const outcome = resultText(step.result)
      lines.push(
        `${mark} ${c.dim(t)}  ${c.bold(`VP${step.vp} VTL${step.vtl}`)}  ${describeAction(action)}${outcome === '' ? '' : ` → ${outcome}`}${step.result.activeVtl !== undefined && step.result.activeVtl !== step.vtl ? c.cyan(` (now VTL${step.result.activeVtl})`) : ''}`
      )
      for (const m of step.mismatches) {
        pending.push(
          `      ${c.red(`expected ${m.field} = ${JSON.stringify(m.expected)}, got ${JSON.stringify(m.actual)}`)}`
        )
      }
    } else if (e.kind === 'tdcall') {
      tdcalls++
    } else {
      const text = eventText(e)
      if (text !== undefined) pending.push(`      ${c.dim('↳')} ${text}`)
    }
  }
  flush()
  if (width === undefined) return lines.join('\n')
  return lines
    .map((line) => wrapLine(line, width, line.startsWith(' ') ? EVENT_INDENT : STEP_INDENT))
    .join('\n')
}
