/** One event of a TD run. `t` is simulated time in ns (the cost of every event before it). */
export interface TdEvent {
  t: number
  vp: number
  kind: 'step' | 'tdcall' | 'hypervisor' | 'vtl-switch' | 'wake' | 'intercept' | 'exception'
  name: string
  detail?: string
}

/** Simulated cost of each event kind, in ns (orders of magnitude from landscape.md's figures). */
export const DEFAULT_COSTS: Readonly<Record<TdEvent['kind'], number>> = {
  step: 100,
  tdcall: 1_000,
  hypervisor: 5_000,
  'vtl-switch': 2_000,
  wake: 500,
  intercept: 3_000,
  exception: 1_000,
}

export interface TdStats {
  vtlSwitches: number
  tdcalls: Record<string, number>
  hypervisorCalls: Record<string, number>
}

/**
 * The TD's event log, simulated clock and report counters. Events are kept only when `record` is
 * on (scenario runs, tests); counters always run, so the report's `stats` never depend on it.
 */
export class TdTrace {
  readonly events: TdEvent[] = []
  time = 0
  stats: TdStats = { vtlSwitches: 0, tdcalls: {}, hypervisorCalls: {} }

  constructor(
    public record = true,
    private readonly costs: Readonly<Record<TdEvent['kind'], number>> = DEFAULT_COSTS
  ) {}

  emit(vp: number, kind: TdEvent['kind'], name: string, detail?: string): void {
    if (kind === 'tdcall') this.stats.tdcalls[name] = (this.stats.tdcalls[name] ?? 0) + 1
    else if (kind === 'hypervisor') {
      this.stats.hypervisorCalls[name] = (this.stats.hypervisorCalls[name] ?? 0) + 1
    } else if (kind === 'vtl-switch') this.stats.vtlSwitches++
    if (this.record) {
      this.events.push(
        detail === undefined
          ? { t: this.time, vp, kind, name }
          : { t: this.time, vp, kind, name, detail }
      )
    }
    this.time += this.costs[kind]
  }

  /** Chrome trace-event JSON (open in Perfetto / chrome://tracing): one track per VP. */
  toChromeTrace(): { traceEvents: Record<string, unknown>[] } {
    return {
      traceEvents: this.events.map((e) => ({
        name: e.name,
        cat: e.kind,
        ph: 'X',
        ts: e.t / 1000,
        dur: this.costs[e.kind] / 1000,
        pid: 1,
        tid: e.vp,
        ...(e.detail === undefined ? {} : { args: { detail: e.detail } }),
      })),
    }
  }

  save(): unknown {
    return { time: this.time, stats: this.stats, events: this.events.length }
  }

  restore(saved: unknown): void {
    const s = saved as { time: number; stats: TdStats }
    this.time = s.time
    this.stats = structuredClone(s.stats)
    this.events.length = 0
  }
}
