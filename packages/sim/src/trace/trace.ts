/** What happened. */
export type TraceKind =
  | 'hypercall'
  | 'tdcall'
  | 'vtl-switch'
  | 'exit'
  | 'intercept'
  | 'interrupt'
  | 'fault'
  | 'wake'
  | 'step'

export type TraceArg = string | number | boolean | null

export interface TraceEvent {
  /** 0, 1, 2 … in recording order (never reused, also after events are dropped). */
  seq: number
  kind: TraceKind
  vp: number
  /** The VTL the event belongs to: 0/1 for the guest, 2 for the paravisor (TDCALLs, forwards). */
  vtl: number
  /** The VP's simulated cycle count when the event began. */
  simCycles: number
  /** Simulated cycles the event lasted (0 or absent: an instant). */
  durCycles?: number
  /** Host wall-clock nanoseconds since the trace was created (diagnostics only). */
  wallNs: number
  name: string
  args: Record<string, TraceArg>
}

/** What callers pass: the trace adds `seq` and `wallNs`. */
export type TraceEventInput = Omit<TraceEvent, 'seq' | 'wallNs'>

/** The `stats` block of a scenario report (scenario-format.md). */
export interface TraceStats {
  vtlSwitches: number
  tdcalls: Record<string, number>
  hypervisorCalls: Record<string, number>
}

export interface TraceOptions {
  /** Events kept (a ring: the oldest go first). Counts stay exact. Default 100 000. */
  limit?: number
  /** Wall clock in ns; default `process.hrtime.bigint()`. Tests pass a fixed clock. */
  wallClock?: () => number
}

export interface ChromeTraceEvent {
  name: string
  ph: 'X' | 'i' | 'M'
  pid: number
  tid: number
  ts: number
  dur?: number
  s?: 't'
  cat?: string
  args?: Record<string, TraceArg>
}

export interface ChromeTraceOptions {
  /** Cycles per microsecond for `ts`/`dur` (= GHz × 1000). Default 2000 (a 2 GHz part). */
  cyclesPerUs?: number
}

export interface TraceJson {
  version: 1
  limit: number
  nextSeq: number
  dropped: number
  events: TraceEvent[]
  stats: TraceStats
}

const sorted = (m: Map<string, number>): Record<string, number> =>
  Object.fromEntries([...m].sort((a, b) => (a[0] < b[0] ? -1 : 1)))

/**
 * An append-only event log with bounded memory: a ring of the last `limit` events plus exact
 * running counts (VTL switches, TDCALLs per leaf, hypervisor calls per name), so reports stay
 * right however long a run is.
 */
export class Trace {
  readonly limit: number
  private readonly ring: TraceEvent[] = []
  /** Index of the oldest event in `ring` once it is full. */
  private head = 0
  private nextSeq = 0
  /** Events that fell out of the ring. */
  dropped = 0
  private switches = 0
  private readonly tdcallCounts = new Map<string, number>()
  private readonly hvCounts = new Map<string, number>()
  private readonly clock: () => number
  private readonly origin: number

  constructor(options: TraceOptions = {}) {
    const limit = options.limit ?? 100_000
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`trace limit must be a positive integer: ${limit}`)
    }
    this.limit = limit
    this.clock = options.wallClock ?? (() => Number(process.hrtime.bigint()))
    this.origin = this.clock()
  }

  record(input: TraceEventInput): TraceEvent {
    const event: TraceEvent = { ...input, seq: this.nextSeq++, wallNs: this.clock() - this.origin }
    if (input.kind === 'vtl-switch') this.switches++
    else if (input.kind === 'tdcall') bump(this.tdcallCounts, input.name)
    else if (input.kind === 'hypercall' && input.args.forwarded === true) {
      bump(this.hvCounts, input.name)
    }
    if (this.ring.length < this.limit) {
      this.ring.push(event)
    } else {
      this.ring[this.head] = event
      this.head = (this.head + 1) % this.limit
      this.dropped++
    }
    return event
  }

  // ---- typed helpers for the common kinds ----

  /**
   * A hypercall: a guest's (`vtl` 0/1, the caller's VTL, as the guest saw it) or, with
   * `forwarded: true`, one the paravisor passed to the hypervisor (`vtl` 2); only forwarded ones
   * count in `stats.hypervisorCalls`. `repCount`/`repsCompleted` are set for rep calls.
   */
  hypercall(
    vp: number,
    vtl: number,
    simCycles: number,
    call: {
      code: number
      name: string
      status: string
      repCount?: number
      repsCompleted?: number
      forwarded?: boolean
      durCycles?: number
    }
  ): TraceEvent {
    const args: Record<string, TraceArg> = { code: call.code, status: call.status }
    if (call.repCount !== undefined) args.repCount = call.repCount
    if (call.repsCompleted !== undefined) args.repsCompleted = call.repsCompleted
    if (call.forwarded === true) args.forwarded = true
    return this.record({
      kind: 'hypercall',
      vp,
      vtl,
      simCycles,
      ...(call.durCycles === undefined ? {} : { durCycles: call.durCycles }),
      name: call.name,
      args,
    })
  }

  /** A TDCALL by the paravisor (VTL2). `name` is the dotted leaf name. */
  tdcall(
    vp: number,
    simCycles: number,
    call: { leaf: number; name: string; status: string; durCycles?: number }
  ): TraceEvent {
    return this.record({
      kind: 'tdcall',
      vp,
      vtl: 2,
      simCycles,
      ...(call.durCycles === undefined ? {} : { durCycles: call.durCycles }),
      name: call.name,
      args: { leaf: call.leaf, status: call.status },
    })
  }

  vtlSwitch(vp: number, simCycles: number, from: number, to: number, reason: string): TraceEvent {
    return this.record({
      kind: 'vtl-switch',
      vp,
      vtl: to,
      simCycles,
      name: `VTL${from}->VTL${to}`,
      args: { from, to, reason },
    })
  }

  // ---- reading ----

  /** Kept events, oldest first. */
  events(): TraceEvent[] {
    return this.ring.length < this.limit
      ? [...this.ring]
      : [...this.ring.slice(this.head), ...this.ring.slice(0, this.head)]
  }

  /** The newest `count` kept events, oldest first (all kept ones when fewer): O(count). */
  latest(count: number): TraceEvent[] {
    const kept = this.ring.length
    const n = Math.max(0, Math.min(Math.floor(count), kept))
    // The slot after the newest event: the end of a ring still filling, else `head`.
    const end = kept < this.limit ? kept : this.head
    const out: TraceEvent[] = []
    for (let i = n; i > 0; i--) out.push(this.ring[(end - i + kept) % kept] as TraceEvent)
    return out
  }

  /** The kept events recorded after `seq`, oldest first (a stream resumes from its last seq). */
  since(seq: number): TraceEvent[] {
    return this.latest(this.nextSeq - 1 - seq)
  }

  get size(): number {
    return this.ring.length
  }

  /** Counts for the report's `stats` (exact, dropped events included). */
  stats(): TraceStats {
    return {
      vtlSwitches: this.switches,
      tdcalls: sorted(this.tdcallCounts),
      hypervisorCalls: sorted(this.hvCounts),
    }
  }

  /**
   * Chrome trace-event JSON (opens in Perfetto and chrome://tracing): one process per VP, one
   * thread per VTL, named by metadata events; events with a duration are "X" complete events,
   * the rest thread-scoped "i" instants. Timestamps are simulated time in µs.
   */
  toChromeTrace(options: ChromeTraceOptions = {}): {
    traceEvents: ChromeTraceEvent[]
    displayTimeUnit: 'ns'
  } {
    const perUs = options.cyclesPerUs ?? 2000
    const events = this.events()
    const tracks = new Map<number, Set<number>>()
    for (const e of events) {
      let set = tracks.get(e.vp)
      if (set === undefined) tracks.set(e.vp, (set = new Set()))
      set.add(e.vtl)
    }
    const out: ChromeTraceEvent[] = []
    for (const vp of [...tracks.keys()].sort((a, b) => a - b)) {
      out.push({
        name: 'process_name',
        ph: 'M',
        pid: vp,
        tid: 0,
        ts: 0,
        args: { name: `VP ${vp}` },
      })
      out.push({
        name: 'process_sort_index',
        ph: 'M',
        pid: vp,
        tid: 0,
        ts: 0,
        args: { sort_index: vp },
      })
      for (const vtl of [...(tracks.get(vp) ?? [])].sort((a, b) => a - b)) {
        const label = vtl === 2 ? 'VTL2 (paravisor)' : `VTL${vtl}`
        out.push({ name: 'thread_name', ph: 'M', pid: vp, tid: vtl, ts: 0, args: { name: label } })
        out.push({
          name: 'thread_sort_index',
          ph: 'M',
          pid: vp,
          tid: vtl,
          ts: 0,
          args: { sort_index: vtl },
        })
      }
    }
    for (const e of events) {
      const base = {
        name: e.name,
        cat: e.kind,
        pid: e.vp,
        tid: e.vtl,
        ts: e.simCycles / perUs,
        args: { seq: e.seq, ...e.args },
      }
      if (e.durCycles !== undefined && e.durCycles > 0) {
        out.push({ ...base, ph: 'X', dur: e.durCycles / perUs })
      } else {
        out.push({ ...base, ph: 'i', s: 't' })
      }
    }
    return { traceEvents: out, displayTimeUnit: 'ns' }
  }

  /** One line per event: `seq cycles vp/vtl kind name key=value…`. */
  toTimeline(): string {
    const lines: string[] = []
    for (const e of this.events()) {
      const args = Object.entries(e.args)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ')
      const dur = e.durCycles === undefined ? '' : ` +${e.durCycles}`
      lines.push(
        `${String(e.seq).padStart(6)} ${String(e.simCycles).padStart(12)}${dur} vp${e.vp}/vtl${e.vtl} ${e.kind} ${e.name}${args === '' ? '' : ` ${args}`}`
      )
    }
    return lines.join('\n')
  }

  toJSON(): TraceJson {
    return {
      version: 1,
      limit: this.limit,
      nextSeq: this.nextSeq,
      dropped: this.dropped,
      events: this.events(),
      stats: this.stats(),
    }
  }

  static fromJSON(json: TraceJson, options: Omit<TraceOptions, 'limit'> = {}): Trace {
    const trace = new Trace({ ...options, limit: json.limit })
    for (const e of json.events) trace.ring.push({ ...e, args: { ...e.args } })
    trace.nextSeq = json.nextSeq
    trace.dropped = json.dropped
    trace.switches = json.stats.vtlSwitches
    for (const [k, v] of Object.entries(json.stats.tdcalls)) trace.tdcallCounts.set(k, v)
    for (const [k, v] of Object.entries(json.stats.hypervisorCalls)) trace.hvCounts.set(k, v)
    return trace
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1)
}
