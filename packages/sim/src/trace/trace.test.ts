import { describe, expect, it } from 'vitest'
import { Trace, type TraceJson } from './trace.js'

/** A wall clock that ticks 10 ns per reading. */
function clock(): () => number {
  let t = 1000
  return () => (t += 10)
}

function sample(limit?: number): Trace {
  const trace = new Trace(
    limit === undefined ? { wallClock: clock() } : { limit, wallClock: clock() }
  )
  trace.hypercall(0, 0, 100, {
    code: 0x0d,
    name: 'EnablePartitionVtl',
    status: 'Success',
    durCycles: 4000,
  })
  trace.hypercall(0, 2, 200, {
    code: 0x0d,
    name: 'EnablePartitionVtl',
    status: 'Success',
    forwarded: true,
  })
  trace.tdcall(0, 300, {
    leaf: 24,
    name: 'TDG.MEM.PAGE.ATTR.WR',
    status: 'TDX_SUCCESS',
    durCycles: 900,
  })
  trace.tdcall(1, 310, { leaf: 24, name: 'TDG.MEM.PAGE.ATTR.WR', status: 'TDX_SUCCESS' })
  trace.tdcall(1, 320, { leaf: 10, name: 'TDG.VP.WR', status: 'TDX_SUCCESS' })
  trace.vtlSwitch(1, 2000, 0, 1, 'VTL_CALL')
  trace.record({
    kind: 'interrupt',
    vp: 1,
    vtl: 1,
    simCycles: 2100,
    name: 'vector 0x30',
    args: { vector: 48 },
  })
  trace.vtlSwitch(1, 4000, 1, 0, 'VTL_RETURN')
  return trace
}

describe('Trace', () => {
  it.each([undefined, 3, 5, 8, 100])(
    'latest(n) and since(seq) read the ring in order (limit %s)',
    (limit) => {
      const trace = sample(limit)
      const kept = trace.events()
      for (const n of [-1, 0, 1, 2, 3, 5, 8, 20]) {
        const want = n <= 0 ? [] : kept.slice(-Math.min(n, kept.length))
        expect(trace.latest(n), `latest(${n})`).toEqual(want)
      }
      for (const seq of [-1, 0, 2, 4, 6, 7, 9]) {
        expect(trace.since(seq), `since(${seq})`).toEqual(kept.filter((e) => e.seq > seq))
      }
    }
  )

  it('numbers events and counts them for the report stats', () => {
    const trace = sample()
    expect(trace.events().map((e) => [e.seq, e.kind, e.vp, e.vtl])).toEqual([
      [0, 'hypercall', 0, 0],
      [1, 'hypercall', 0, 2],
      [2, 'tdcall', 0, 2],
      [3, 'tdcall', 1, 2],
      [4, 'tdcall', 1, 2],
      [5, 'vtl-switch', 1, 1],
      [6, 'interrupt', 1, 1],
      [7, 'vtl-switch', 1, 0],
    ])
    expect(trace.events()[0]?.wallNs).toBe(10)
    expect(trace.stats()).toEqual({
      vtlSwitches: 2,
      tdcalls: { 'TDG.MEM.PAGE.ATTR.WR': 2, 'TDG.VP.WR': 1 },
      hypervisorCalls: { EnablePartitionVtl: 1 },
    })
  })

  it('keeps the last `limit` events as a ring; stats stay exact', () => {
    const trace = sample(3)
    expect(trace.events().map((e) => e.seq)).toEqual([5, 6, 7])
    expect(trace.dropped).toBe(5)
    expect(trace.size).toBe(3)
    expect(trace.stats().vtlSwitches).toBe(2)
    expect(trace.stats().tdcalls).toEqual({ 'TDG.MEM.PAGE.ATTR.WR': 2, 'TDG.VP.WR': 1 })
  })

  it('exports Chrome trace-event JSON: tracks per VP (pid) and VTL (tid), X and i events', () => {
    const json = JSON.stringify(sample().toChromeTrace({ cyclesPerUs: 100 }))
    const parsed = JSON.parse(json) as {
      traceEvents: Record<string, unknown>[]
      displayTimeUnit: string
    }
    expect(parsed.displayTimeUnit).toBe('ns')
    const meta = parsed.traceEvents.filter((e) => e.ph === 'M')
    expect(meta.filter((e) => e.name === 'process_name').map((e) => [e.pid, e.args])).toEqual([
      [0, { name: 'VP 0' }],
      [1, { name: 'VP 1' }],
    ])
    expect(meta.filter((e) => e.name === 'thread_name').map((e) => [e.pid, e.tid, e.args])).toEqual(
      [
        [0, 0, { name: 'VTL0' }],
        [0, 2, { name: 'VTL2 (paravisor)' }],
        [1, 0, { name: 'VTL0' }],
        [1, 1, { name: 'VTL1' }],
        [1, 2, { name: 'VTL2 (paravisor)' }],
      ]
    )
    const body = parsed.traceEvents.filter((e) => e.ph !== 'M')
    expect(body).toHaveLength(8)
    for (const e of body) {
      expect(typeof e.name).toBe('string')
      expect(typeof e.pid).toBe('number')
      expect(typeof e.tid).toBe('number')
      expect(typeof e.ts).toBe('number')
    }
    expect(body[0]).toEqual({
      name: 'EnablePartitionVtl',
      cat: 'hypercall',
      ph: 'X',
      pid: 0,
      tid: 0,
      ts: 1,
      dur: 40,
      args: { seq: 0, code: 13, status: 'Success' },
    })
    expect(body[5]).toEqual({
      name: 'VTL0->VTL1',
      cat: 'vtl-switch',
      ph: 'i',
      s: 't',
      pid: 1,
      tid: 1,
      ts: 20,
      args: { seq: 5, from: 0, to: 1, reason: 'VTL_CALL' },
    })
  })

  it('writes a one-line-per-event timeline', () => {
    const lines = sample().toTimeline().split('\n')
    expect(lines).toHaveLength(8)
    expect(lines[0]).toBe(
      '     0          100 +4000 vp0/vtl0 hypercall EnablePartitionVtl code=13 status=Success'
    )
    expect(lines[5]).toBe(
      '     5         2000 vp1/vtl1 vtl-switch VTL0->VTL1 from=0 to=1 reason=VTL_CALL'
    )
  })

  it('round-trips through toJSON/fromJSON and keeps numbering', () => {
    const trace = sample(4)
    const copy = Trace.fromJSON(JSON.parse(JSON.stringify(trace.toJSON())) as TraceJson, {
      wallClock: clock(),
    })
    expect(copy.toJSON()).toEqual(trace.toJSON())
    expect(copy.vtlSwitch(0, 1, 0, 1, 'x').seq).toBe(8)
    expect(copy.events().map((e) => e.seq)).toEqual([5, 6, 7, 8])
  })
})
