import type { TraceEvent } from './events.js'

// The hypercall log: the guest hypercalls of the trace (caller VP and VTL, TLFS name, HvStatus,
// reps, simulated cost), and the paravisor's forwards to the host when asked.

export interface HypercallRow {
  seq: number
  vp: number
  /** 0/1: the guest VTL that called; 2: the paravisor forwarding to the host. */
  vtl: number
  name: string
  code: number | undefined
  status: string
  /** `completed/count` of a rep call. */
  reps: string | undefined
  /** Simulated cycles from the VMCALL exit to completion. */
  cycles: number | undefined
}

export interface LogFilter {
  vp: number | undefined
  vtl: number | undefined
  outcome: 'all' | 'failed' | 'succeeded'
  /** Part of the TLFS name, any case. */
  name: string
  /** Also the paravisor's calls to the host (VTL2). */
  forwards: boolean
}

export const NO_FILTER: LogFilter = {
  vp: undefined,
  vtl: undefined,
  outcome: 'all',
  name: '',
  forwards: false,
}

export function hypercallRow(event: TraceEvent): HypercallRow | undefined {
  if (event.kind !== 'hypercall') return undefined
  const { args } = event
  const count = typeof args.repCount === 'number' ? args.repCount : undefined
  return {
    seq: event.seq,
    vp: event.vp,
    vtl: event.vtl,
    name: event.name,
    code: typeof args.code === 'number' ? args.code : undefined,
    status: String(args.status ?? ''),
    reps: count === undefined ? undefined : `${String(args.repsCompleted ?? 0)}/${count}`,
    cycles: event.durCycles,
  }
}

export const failed = (row: HypercallRow): boolean => row.status !== 'Success'

export function filterRows(rows: readonly HypercallRow[], filter: LogFilter): HypercallRow[] {
  const name = filter.name.trim().toLowerCase()
  return rows.filter(
    (row) =>
      (filter.forwards || row.vtl < 2) &&
      (filter.vp === undefined || row.vp === filter.vp) &&
      (filter.vtl === undefined || row.vtl === filter.vtl) &&
      (filter.outcome === 'all' || failed(row) === (filter.outcome === 'failed')) &&
      (name === '' || row.name.toLowerCase().includes(name))
  )
}
