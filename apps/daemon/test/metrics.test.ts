import type { TraceEvent } from '@vtl/sim'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { DaemonMetrics, type TraceSource } from '../src/metrics.js'

type Listener = (td: string, events: readonly TraceEvent[]) => void

/** A TdService stand-in: the observation hook only. */
class FakeSource implements TraceSource {
  readonly listeners = new Set<Listener>()
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
  emit(td: string, events: readonly TraceEvent[]): void {
    for (const listener of this.listeners) listener(td, events)
  }
}

let seq = 0
function event(
  kind: TraceEvent['kind'],
  name: string,
  at: { vp?: number; simCycles: number; durCycles?: number },
  args: TraceEvent['args'] = {}
): TraceEvent {
  return {
    seq: seq++,
    kind,
    vp: at.vp ?? 0,
    vtl: kind === 'tdcall' ? 2 : 0,
    simCycles: at.simCycles,
    wallNs: 0,
    name,
    args,
    ...(at.durCycles === undefined ? {} : { durCycles: at.durCycles }),
  }
}

/** The exposition's sample lines (no HELP/TYPE), for exact comparisons. */
async function samples(metrics: DaemonMetrics, prefix: string): Promise<string[]> {
  const text = await (await metrics.exposition()).text()
  return text.split('\n').filter((line) => line.startsWith(prefix))
}

describe('guest metrics from trace events', () => {
  it('counts steps, VTL switches, guest hypercalls, forwards, TDCALLs by leaf and cycles', async () => {
    const metrics = new DaemonMetrics()
    const source = new FakeSource()
    const unwatch = metrics.watch(source)
    source.emit('td-1', [
      event('step', 'hypercall', { simCycles: 1000 }),
      event('tdcall', 'TDG.VP.ENTER', { simCycles: 1000 }, { leaf: 25, status: 'TDX_SUCCESS' }),
      // The forward sits inside the guest's call: counted apart, never as a guest call.
      event(
        'hypercall',
        'EnablePartitionVtl',
        { simCycles: 3900 },
        { code: 0x0d, status: 'Success', forwarded: true }
      ),
      event('tdcall', 'TDG.MEM.PAGE.ATTR.WR', { simCycles: 5000, durCycles: 200 }, { leaf: 24 }),
      event(
        'hypercall',
        'EnablePartitionVtl',
        { simCycles: 1100, durCycles: 4100 },
        { code: 0x0d, status: 'Success' }
      ),
      event('step', 'vtlCall', { simCycles: 6000 }),
      event(
        'hypercall',
        'VtlCall',
        { simCycles: 6000, durCycles: 400 },
        { code: 0x11, status: 'Success' }
      ),
      event('vtl-switch', 'VTL0->VTL1', { simCycles: 6100 }, { from: 0, to: 1, reason: 'VtlCall' }),
    ])
    source.emit('td-2', [
      event('step', 'hypercall', { simCycles: 0 }),
      event(
        'hypercall',
        'ModifyVtlProtectionMask',
        { simCycles: 0, durCycles: 300 },
        { code: 0x0c, status: 'AccessDenied', repCount: 2, repsCompleted: 0 }
      ),
      event(
        'hypercall',
        'EnableVpVtl',
        { simCycles: 300, durCycles: 200 },
        { code: 0x0f, status: 'InvalidVtlState', forwarded: true }
      ),
    ])

    expect(await samples(metrics, 'vtl_guest_steps_total')).toEqual([
      'vtl_guest_steps_total{action="hypercall"} 2',
      'vtl_guest_steps_total{action="vtlCall"} 1',
    ])
    expect(await samples(metrics, 'vtl_vtl_switches_total')).toEqual(['vtl_vtl_switches_total 1'])
    expect(await samples(metrics, 'vtl_hypercalls_total')).toEqual([
      'vtl_hypercalls_total{code="0x000d",name="EnablePartitionVtl",status="Success"} 1',
      'vtl_hypercalls_total{code="0x0011",name="VtlCall",status="Success"} 1',
      'vtl_hypercalls_total{code="0x000c",name="ModifyVtlProtectionMask",status="AccessDenied"} 1',
    ])
    expect(await samples(metrics, 'vtl_hypervisor_calls_total')).toEqual([
      'vtl_hypervisor_calls_total{name="EnablePartitionVtl",status="Success"} 1',
      'vtl_hypervisor_calls_total{name="EnableVpVtl",status="InvalidVtlState"} 1',
    ])
    expect(await samples(metrics, 'vtl_tdcalls_total')).toEqual([
      'vtl_tdcalls_total{leaf="TDG.VP.ENTER"} 1',
      'vtl_tdcalls_total{leaf="TDG.MEM.PAGE.ATTR.WR"} 1',
    ])
    // The guest calls' own spans (4100, 400, 300), never the forwards'.
    const cycles = await samples(metrics, 'vtl_hypercall_cycles')
    expect(cycles).toContain('vtl_hypercall_cycles_bucket{le="250"} 0')
    expect(cycles).toContain('vtl_hypercall_cycles_bucket{le="500"} 2')
    expect(cycles).toContain('vtl_hypercall_cycles_bucket{le="2500"} 2')
    expect(cycles).toContain('vtl_hypercall_cycles_bucket{le="5000"} 3')
    expect(cycles).toContain('vtl_hypercall_cycles_sum 4800')
    expect(cycles).toContain('vtl_hypercall_cycles_count 3')

    unwatch()
    expect(source.listeners.size).toBe(0)
    source.emit('td-1', [event('vtl-switch', 'VTL0->VTL1', { simCycles: 0 })])
    expect(await samples(metrics, 'vtl_vtl_switches_total')).toEqual(['vtl_vtl_switches_total 1'])
  })

  it('keeps each daemon’s counts apart (a registry each)', async () => {
    const a = new DaemonMetrics()
    const b = new DaemonMetrics()
    a.observe([event('vtl-switch', 'VTL0->VTL1', { simCycles: 0 })])
    expect(await samples(a, 'vtl_vtl_switches_total')).toEqual(['vtl_vtl_switches_total 1'])
    expect(await samples(b, 'vtl_vtl_switches_total')).toEqual(['vtl_vtl_switches_total 0'])
  })

  it('adds the events between two scrapes to the counts of the first, in first-seen order', async () => {
    const metrics = new DaemonMetrics()
    const tdcall = (leaf: string) => event('tdcall', leaf, { simCycles: 0 })
    metrics.observe([tdcall('TDG.VP.WR'), tdcall('TDG.VP.WR')])
    expect(await samples(metrics, 'vtl_tdcalls_total')).toEqual([
      'vtl_tdcalls_total{leaf="TDG.VP.WR"} 2',
    ])
    // A scrape with nothing new changes nothing.
    expect(await samples(metrics, 'vtl_tdcalls_total')).toEqual([
      'vtl_tdcalls_total{leaf="TDG.VP.WR"} 2',
    ])
    metrics.observe([tdcall('TDG.VP.ENTER'), tdcall('TDG.VP.WR'), tdcall('TDG.VP.ENTER')])
    metrics.observe([event('vtl-switch', 'VTL0->VTL1', { simCycles: 0 })])
    expect(await samples(metrics, 'vtl_tdcalls_total')).toEqual([
      'vtl_tdcalls_total{leaf="TDG.VP.WR"} 3',
      'vtl_tdcalls_total{leaf="TDG.VP.ENTER"} 2',
    ])
    expect(await samples(metrics, 'vtl_vtl_switches_total')).toEqual(['vtl_vtl_switches_total 1'])
  })

  it('serves the Prometheus text format', async () => {
    const response = await new DaemonMetrics({ defaultMetrics: true }).exposition()
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await response.text()
    expect(text).toContain('# TYPE vtl_hypercalls_total counter')
    expect(text).toContain('# TYPE vtl_hypervisor_calls_total counter')
    expect(text).toContain('# TYPE vtl_hypercall_cycles histogram')
    expect(text).toContain('process_cpu_user_seconds_total')
  })
})

describe('HTTP request latency', () => {
  it('labels by matched route (not the raw path), method and status', async () => {
    const metrics = new DaemonMetrics()
    const app = new Hono()
    app.use('*', metrics.timing())
    app.get('/v1/tds/:id/status', (c) => c.json({ id: c.req.param('id') }))
    app.post('/v1/tds', (c) => c.json({}, 201))
    await app.request('/v1/tds/td-1/status')
    await app.request('/v1/tds/td-2/status')
    await app.request('/v1/tds', { method: 'POST' })
    await app.request('/nowhere/td-3')
    const counts = await samples(metrics, 'vtl_http_request_duration_seconds_count')
    expect(counts).toEqual([
      'vtl_http_request_duration_seconds_count{route="/v1/tds/:id/status",method="GET",status="200"} 2',
      'vtl_http_request_duration_seconds_count{route="/v1/tds",method="POST",status="201"} 1',
      'vtl_http_request_duration_seconds_count{route="unmatched",method="GET",status="404"} 1',
    ])
  })
})
