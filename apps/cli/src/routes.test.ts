import { describe, expect, it } from 'vitest'
import type { VtldOp, VtldRequest } from './client.js'
import { RUNS_PAGE_LIMIT, routeOf, traceEventsRoute, type RouteInput } from './routes.js'
import { wireJson } from './wire.js'

interface Case {
  request: VtldRequest
  input?: RouteInput
  method: string
  path: string
  /** The body as it goes on the wire (JSON), absent for none. */
  body?: unknown
}

const U64_MAX = 0xffff_ffff_ffff_ffffn

// Every op at least once (the Record makes a new op without a case a type error).
const CASES: Record<VtldOp, Case[]> = {
  'td.create': [
    {
      request: {
        op: 'td.create',
        name: 'demo',
        vps: 4,
        memory: 64n << 20n,
        gpaWidth: 48,
        mbec: true,
      },
      method: 'POST',
      path: '/v1/tds',
      body: { name: 'demo', vps: 4, memory: '0x4000000', gpaWidth: 48, mbec: true },
    },
    {
      request: { op: 'td.create', vps: 1, memory: 1n << 30n, gpaWidth: 52, mbec: false },
      method: 'POST',
      path: '/v1/tds',
      body: { vps: 1, memory: '0x40000000', gpaWidth: 52, mbec: false },
    },
  ],
  'td.list': [{ request: { op: 'td.list' }, method: 'GET', path: '/v1/tds' }],
  'td.show': [
    { request: { op: 'td.show', td: 'td-1a2b' }, method: 'GET', path: '/v1/tds/td-1a2b' },
    { request: { op: 'td.show', td: 'a/b c' }, method: 'GET', path: '/v1/tds/a%2Fb%20c' },
  ],
  'td.delete': [
    { request: { op: 'td.delete', td: 'd', force: false }, method: 'DELETE', path: '/v1/tds/d' },
    {
      request: { op: 'td.delete', td: 'd', force: true },
      method: 'DELETE',
      path: '/v1/tds/d?force=true',
    },
  ],
  'td.save': [
    {
      request: { op: 'td.save', td: 'd', file: '/tmp/x.json' },
      method: 'GET',
      path: '/v1/tds/d/snapshot',
    },
  ],
  'td.restore': [
    {
      request: { op: 'td.restore', file: 'x.json', name: 'copy' },
      input: { snapshot: { version: 1, vps: 2 } },
      method: 'POST',
      path: '/v1/tds/restore',
      body: { name: 'copy', snapshot: { version: 1, vps: 2 } },
    },
    {
      request: { op: 'td.restore', file: 'x.json' },
      input: { snapshot: { version: 1 } },
      method: 'POST',
      path: '/v1/tds/restore',
      body: { snapshot: { version: 1 } },
    },
  ],
  'vsm.enable-partition': [
    {
      request: { op: 'vsm.enable-partition', td: 'd', vp: 0, targetVtl: 1, mbec: true },
      method: 'POST',
      path: '/v1/tds/d/vsm/enable-partition-vtl',
      body: { vp: 0, targetVtl: 1, mbec: true },
    },
  ],
  'vsm.enable-vp': [
    {
      request: {
        op: 'vsm.enable-vp',
        td: 'd',
        vp: 0,
        targetVp: 3,
        targetVtl: 1,
        rip: U64_MAX,
        cr3: 0x1000n,
      },
      method: 'POST',
      path: '/v1/tds/d/vsm/enable-vp-vtl',
      body: {
        vp: 0,
        targetVp: 3,
        targetVtl: 1,
        context: { rip: '0xffffffffffffffff', cr3: '0x1000' },
      },
    },
    {
      request: { op: 'vsm.enable-vp', td: 'd', vp: 1, targetVp: 1, targetVtl: 1 },
      method: 'POST',
      path: '/v1/tds/d/vsm/enable-vp-vtl',
      body: { vp: 1, targetVp: 1, targetVtl: 1 },
    },
  ],
  'vsm.start-vp': [
    {
      request: {
        op: 'vsm.start-vp',
        td: 'd',
        vp: 0,
        targetVp: 2,
        targetVtl: 0,
        rip: 0x120000n,
        rsp: 0x8000n,
      },
      method: 'POST',
      path: '/v1/tds/d/vsm/start-vp',
      body: { vp: 0, targetVp: 2, targetVtl: 0, context: { rip: '0x120000', rsp: '0x8000' } },
    },
  ],
  'vsm.config': [
    {
      request: { op: 'vsm.config', td: 'd', vp: 2 },
      method: 'GET',
      path: '/v1/tds/d/vsm/partition-config?vp=2',
    },
    {
      request: { op: 'vsm.config', td: 'd', vp: 0, set: 0x1fn },
      method: 'PUT',
      path: '/v1/tds/d/vsm/partition-config',
      body: { vp: 0, value: '0x1f' },
    },
  ],
  'vsm.status': [
    { request: { op: 'vsm.status', td: 'd' }, method: 'GET', path: '/v1/tds/d/status' },
  ],
  'mem.protect': [
    {
      request: {
        op: 'mem.protect',
        td: 'd',
        vp: 1,
        targetVtl: 0,
        start: 0x10000n,
        size: 0x2000n,
        flags: 0x9,
      },
      method: 'POST',
      path: '/v1/tds/d/memory/protect',
      body: { vp: 1, targetVtl: 0, start: '0x10000', size: '0x2000', flags: 9 },
    },
    {
      request: { op: 'mem.protect', td: 'd', vp: 0, start: 0x10000n, size: 0x1000n, flags: 1 },
      method: 'POST',
      path: '/v1/tds/d/memory/protect',
      body: { vp: 0, start: '0x10000', size: '0x1000', flags: 1 },
    },
  ],
  'mem.share': [
    {
      request: { op: 'mem.share', td: 'd', vp: 0, start: 0x200000n, size: 0x10000n },
      method: 'POST',
      path: '/v1/tds/d/memory/share',
      body: { vp: 0, start: '0x200000', size: '0x10000' },
    },
  ],
  'mem.unshare': [
    {
      request: { op: 'mem.unshare', td: 'd', vp: 0, start: 0x200000n, size: 0x1000n },
      method: 'POST',
      path: '/v1/tds/d/memory/unshare',
      body: { vp: 0, start: '0x200000', size: '0x1000' },
    },
  ],
  'mem.show': [
    {
      request: { op: 'mem.show', td: 'd' },
      method: 'GET',
      path: `/v1/tds/d/memory/runs?limit=${RUNS_PAGE_LIMIT}`,
    },
    {
      request: { op: 'mem.show', td: 'd', start: 0x10000n, size: 0x4000n },
      input: { cursor: 'c/2' },
      method: 'GET',
      path: `/v1/tds/d/memory/runs?start=0x10000&size=0x4000&cursor=c%2F2&limit=${RUNS_PAGE_LIMIT}`,
    },
  ],
  hypercall: [
    {
      request: {
        op: 'hypercall',
        td: 'd',
        vp: 0,
        vtl: 1,
        code: 0x13,
        repCount: 2,
        fast: true,
        input: new Uint8Array([0x0a, 0xff]),
      },
      method: 'POST',
      path: '/v1/tds/d/hypercall',
      body: { vp: 0, vtl: 1, code: 0x13, input: '0aff', repCount: 2, fast: true },
    },
    {
      request: {
        op: 'hypercall',
        td: 'd',
        vp: 3,
        code: 0x0d,
        repCount: 0,
        fast: false,
        input: new Uint8Array(0),
      },
      method: 'POST',
      path: '/v1/tds/d/hypercall',
      body: { vp: 3, code: 0x0d, input: '', repCount: 0, fast: false },
    },
  ],
  trace: [
    {
      request: { op: 'trace', td: 'd', limit: 200 },
      method: 'GET',
      path: '/v1/tds/d/trace?limit=200',
    },
    {
      request: { op: 'trace', td: 'd', limit: 5, out: 'x.json' },
      method: 'GET',
      path: '/v1/tds/d/trace?limit=5',
    },
  ],
  'td.steps': [
    {
      request: {
        op: 'td.steps',
        td: 'd',
        steps: [
          { vp: 1, vtl: 0, read: { gpa: '0x10000', size: 4 } },
          { vp: 0, vtlCall: {} },
        ],
      },
      method: 'POST',
      path: '/v1/tds/d/steps',
      body: {
        steps: [
          { vp: 1, vtl: 0, read: { gpa: '0x10000', size: 4 } },
          { vp: 0, vtlCall: {} },
        ],
      },
    },
  ],
}

describe('routeOf: each request to its vtld route (api-contract.md)', () => {
  const rows = Object.values(CASES)
    .flat()
    .map((c) => [`${c.request.op} → ${c.method} ${c.path}`, c] as const)

  it.each(rows)('%s', (_name, c) => {
    const route = routeOf(c.request, c.input)
    expect(route.method).toBe(c.method)
    expect(route.path).toBe(c.path)
    if (c.body === undefined) expect(route.body).toBeUndefined()
    else expect(JSON.parse(wireJson(route.body))).toEqual(c.body)
  })

  it('streams trace events from their own route', () => {
    expect(traceEventsRoute('td 1')).toEqual({ method: 'GET', path: '/v1/tds/td%201/trace/events' })
  })
})
