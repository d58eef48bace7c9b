import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { hypercallName } from '@vtl/core'
import type { TraceEvent } from '@vtl/sim'
import type { Context, MiddlewareHandler } from 'hono'
import { routePath } from 'hono/route'

// Prometheus metrics of one daemon (its own Registry, so daemons and tests never share counts).

/** What feeds the guest-side metrics: TdService's observation hook. */
export interface TraceSource {
  subscribe(listener: (td: string, events: readonly TraceEvent[]) => void): () => void
}

/** Simulated cycles: a VTL switch costs hundreds, a hypercall thousands and more. */
const CYCLE_BUCKETS = [100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 1e6]
const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5]

const hex16 = (code: number): string => `0x${code.toString(16).padStart(4, '0')}`

/**
 * The route a request matched (`/v1/tds/:id/status`), never the raw path (bounded labels); the
 * last matched route is a `*` middleware when no handler matched.
 */
export function matchedRoute(c: Context): string {
  const route = routePath(c, -1)
  return route === '/*' || route === '*' ? 'unmatched' : route
}

/**
 * A counter's increments kept as plain numbers per series and added to it when it is collected
 * (a scrape). A command's trace has dozens of events, and prom-client hashes the labels of each
 * increment; here an event costs a map look-up, and a series a hash per scrape.
 */
class Tally {
  private readonly pending = new Map<string, { values: string[]; count: number }>()
  private counter: Counter | undefined

  /** `labels`: how many label values each series has (the counter's label names). */
  constructor(private readonly labels: number) {}

  /** The counter, made with `collect: () => { tally.flush() }`. */
  of(counter: Counter): void {
    this.counter = counter
  }

  /** One increment of the series with label values `a, b, c` (in order), known by `key`. */
  add(key: string, a = '', b = '', c = ''): void {
    const found = this.pending.get(key)
    if (found === undefined) {
      this.pending.set(key, { values: [a, b, c].slice(0, this.labels), count: 1 })
    } else found.count++
  }

  /** Adds the pending counts to the counter. */
  flush(): void {
    for (const series of this.pending.values()) {
      if (series.count === 0) continue
      this.counter?.labels(...series.values).inc(series.count)
      series.count = 0
    }
  }
}

export class DaemonMetrics {
  readonly registry = new Registry()
  // The guest counters, fed per trace event: tallied, added to prom-client's counters on a scrape.
  private readonly vtlSwitches = new Tally(0)
  private readonly hypercalls = new Tally(3)
  private readonly hypervisorCalls = new Tally(2)
  private readonly steps = new Tally(1)
  private readonly tdcalls = new Tally(1)
  private readonly hypercallCycles: Histogram
  private readonly requests: Histogram<'route' | 'method' | 'status'>
  /** The request histogram's series by `route method status` (labels resolved once each). */
  private readonly requestSeries = new Map<string, { observe: (seconds: number) => void }>()

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry]
    if (options.defaultMetrics === true) collectDefaultMetrics({ register: this.registry })
    const tallied = (
      tally: Tally,
      config: { name: string; help: string; labelNames?: string[] }
    ): void => {
      tally.of(
        new Counter({
          ...config,
          registers,
          collect: () => {
            tally.flush()
          },
        })
      )
    }
    tallied(this.vtlSwitches, {
      name: 'vtl_vtl_switches_total',
      help: 'VTL switches (entries into VTL0 or VTL1) on every TD',
    })
    tallied(this.hypercalls, {
      name: 'vtl_hypercalls_total',
      help:
        'Guest hypercalls as the guest saw them, by code, TLFS name and status (HvStatus name, ' +
        'or #UD/#GP for a call that faulted)',
      labelNames: ['code', 'name', 'status'],
    })
    tallied(this.hypervisorCalls, {
      name: 'vtl_hypervisor_calls_total',
      help: 'Hypercalls the paravisor forwarded to the host, by name and the host’s status',
      labelNames: ['name', 'status'],
    })
    tallied(this.steps, {
      name: 'vtl_guest_steps_total',
      help: 'Guest steps by action (hypercall, vtlCall, vtlReturn, …)',
      labelNames: ['action'],
    })
    tallied(this.tdcalls, {
      name: 'vtl_tdcalls_total',
      help: 'TDCALLs by the paravisor, by leaf name',
      labelNames: ['leaf'],
    })
    this.hypercallCycles = new Histogram({
      name: 'vtl_hypercall_cycles',
      help: 'Simulated cycles of each guest hypercall, from its VMCALL exit to completion',
      buckets: CYCLE_BUCKETS,
      registers,
    })
    this.requests = new Histogram({
      name: 'vtl_http_request_duration_seconds',
      help: 'HTTP request latency (wall clock until the response headers), by route, method and status',
      labelNames: ['route', 'method', 'status'],
      buckets: SECONDS_BUCKETS,
      registers,
    })
  }

  /** Counts one batch of a TD's trace events (one command's). */
  observe(events: readonly TraceEvent[]): void {
    for (const event of events) {
      if (event.kind === 'step') this.steps.add(event.name, event.name)
      else if (event.kind === 'vtl-switch') this.vtlSwitches.add('')
      else if (event.kind === 'tdcall') this.tdcalls.add(event.name, event.name)
      else if (event.kind === 'hypercall') this.hypercall(event)
    }
  }

  /** A forwarded call (VTL2) or a guest's own, whose span is its cost. */
  private hypercall(event: TraceEvent): void {
    const { code, status, forwarded } = event.args
    const statusLabel = String(status)
    if (forwarded === true) {
      this.hypervisorCalls.add(`${event.name} ${statusLabel}`, event.name, statusLabel)
      return
    }
    // Only TLFS codes get their own series: any other code (a guest may issue all 65 536) is
    // `other`, so the label set stays bounded.
    const known = typeof code === 'number' && hypercallName(code) !== undefined
    const codeLabel = known ? hex16(code) : 'other'
    const name = known ? event.name : 'Unknown'
    this.hypercalls.add(`${codeLabel} ${name} ${statusLabel}`, codeLabel, name, statusLabel)
    this.hypercallCycles.observe(event.durCycles ?? 0)
  }

  /** Feeds the metrics from a TD service; returns the unsubscribe function. */
  watch(source: TraceSource): () => void {
    return source.subscribe((_td, events) => {
      this.observe(events)
    })
  }

  /** Hono middleware timing every request (mount it before the routes). */
  timing(): MiddlewareHandler {
    const record = (c: Context, start: number): void => {
      const route = matchedRoute(c)
      const { method } = c.req
      const status = String(c.res.status)
      const key = `${route} ${method} ${status}`
      let series = this.requestSeries.get(key)
      if (series === undefined) {
        series = this.requests.labels(route, method, status)
        this.requestSeries.set(key, series)
      }
      series.observe((performance.now() - start) / 1000)
    }
    // Not async: one `then` instead of an async frame around the rest of the chain.
    return (c, next) => {
      const start = performance.now()
      return next().then(
        () => {
          record(c, start)
        },
        (error: unknown) => {
          record(c, start)
          throw error
        }
      )
    }
  }

  /** The Prometheus text exposition. */
  async exposition(): Promise<Response> {
    return new Response(await this.registry.metrics(), {
      headers: { 'content-type': this.registry.contentType },
    })
  }
}
