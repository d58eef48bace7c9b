import type { TraceEvent } from './events.js'

// The VP × VTL grid's state: vtld's status read (VTL1 enabled, blocked, pending interrupts, the
// active VTL) with the trace events after it applied on top (VTL switches arrive before the next
// status read; the grid moves with them).

export interface VpSwitch {
  from: number
  to: number
  reason: string
  seq: number
}

export interface VpRow {
  vp: number
  /** The VTL the VP runs (or last ran) in. */
  activeVtl: number
  vtl1Enabled: boolean
  /** A hypercall waits on a TLB lock (§13.10). */
  blocked: boolean
  pending: { vtl0: readonly number[]; vtl1: readonly number[] }
  switches: number
  lastSwitch: VpSwitch | undefined
  lastHypercall: { name: string; status: string; vtl: number } | undefined
}

export interface GridState {
  vps: readonly VpRow[]
  guestVsmState: string | undefined
  /** The newest trace event applied (-1: none). */
  seq: number
}

/** The status answer's fields the grid reads (`GET /v1/tds/{id}/status`). */
export interface TdStatus {
  partition: { guestVsmState: string }
  vps: {
    vp: number
    activeVtl: number
    vtl1Enabled: boolean
    blocked?: boolean
    pendingInterrupts?: { vtl0: number[]; vtl1: number[] }
  }[]
}

function row(vp: number): VpRow {
  return {
    vp,
    activeVtl: 0,
    vtl1Enabled: false,
    blocked: false,
    pending: { vtl0: [], vtl1: [] },
    switches: 0,
    lastSwitch: undefined,
    lastHypercall: undefined,
  }
}

export function emptyGrid(vps: number): GridState {
  return { vps: Array.from({ length: vps }, (_, vp) => row(vp)), guestVsmState: undefined, seq: -1 }
}

const num = (value: unknown, fallback: number): number =>
  typeof value === 'number' ? value : fallback

/** `state` with `events` applied (pure; events at or before `state.seq` are skipped). */
export function applyEvents(state: GridState, events: readonly TraceEvent[]): GridState {
  const vps = [...state.vps]
  let seq = state.seq
  for (const event of events) {
    if (event.seq <= seq) continue
    seq = event.seq
    const current = vps[event.vp] ?? row(event.vp)
    if (event.kind === 'vtl-switch') {
      const to = num(event.args.to, event.vtl)
      vps[event.vp] = {
        ...current,
        activeVtl: to,
        // Only an enabled VTL1 can be entered.
        vtl1Enabled: current.vtl1Enabled || to === 1,
        switches: current.switches + 1,
        lastSwitch: {
          from: num(event.args.from, current.activeVtl),
          to,
          reason: String(event.args.reason ?? ''),
          seq: event.seq,
        },
      }
    } else if (event.kind === 'hypercall' && event.vtl < 2) {
      vps[event.vp] = {
        ...current,
        lastHypercall: {
          name: event.name,
          status: String(event.args.status ?? ''),
          vtl: event.vtl,
        },
      }
    }
  }
  return { ...state, vps, seq }
}

/** `state` with a status read applied (it is newer than every event already applied). */
export function applyStatus(state: GridState, status: TdStatus): GridState {
  const vps = status.vps.map((s) => ({
    ...(state.vps[s.vp] ?? row(s.vp)),
    activeVtl: s.activeVtl,
    vtl1Enabled: s.vtl1Enabled,
    blocked: s.blocked ?? false,
    pending: s.pendingInterrupts ?? { vtl0: [], vtl1: [] },
  }))
  return { ...state, vps, guestVsmState: status.partition.guestVsmState }
}

/** One sentence per VP, the grid's text alternative. */
export function describeVp(row: VpRow): string {
  const parts = [`VP ${row.vp} runs in VTL${row.activeVtl}`]
  parts.push(row.vtl1Enabled ? 'VTL1 enabled' : 'VTL1 not enabled')
  if (row.blocked) parts.push('blocked on a TLB lock')
  const pending = [
    ...row.pending.vtl0.map((v) => `VTL0 vector 0x${v.toString(16)}`),
    ...row.pending.vtl1.map((v) => `VTL1 vector 0x${v.toString(16)}`),
  ]
  parts.push(pending.length === 0 ? 'no pending interrupts' : `pending: ${pending.join(', ')}`)
  if (row.lastSwitch !== undefined) {
    const s = row.lastSwitch
    parts.push(`last switch VTL${s.from}→VTL${s.to} (${s.reason})`)
  }
  return `${parts.join('; ')}.`
}
