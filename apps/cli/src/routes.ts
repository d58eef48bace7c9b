import type { VtldRequest } from './client.js'

// Which `vtld` route serves each request, and the body it sends (api-contract.md). Pure: the
// client adds what needs I/O (the snapshot file of td.restore, the cursor of mem.show's pages).

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE'

/** One HTTP exchange. Bodies are JSON-encoded with bigints as `0x` hex (see wire.ts). */
export interface Route {
  method: HttpMethod
  /** Path and query string. */
  path: string
  body?: unknown
}

/** Runs per page when following mem.show's cursor (the contract's maximum). */
export const RUNS_PAGE_LIMIT = 4096

/** What the client supplies for requests that need I/O before they can be sent. */
export interface RouteInput {
  /** td.restore: the parsed snapshot file. */
  snapshot?: unknown
  /** mem.show: the `next` cursor of the previous page. */
  cursor?: string
}

const td = (id: string): string => `/v1/tds/${encodeURIComponent(id)}`

function query(fields: Record<string, string | number | bigint | undefined>): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined) params.set(k, typeof v === 'bigint' ? `0x${v.toString(16)}` : String(v))
  }
  const text = params.toString()
  return text === '' ? '' : `?${text}`
}

/** The initial VP context fields a VSM request carries, under `context` when there are any. */
function context(r: { rip?: bigint; rsp?: bigint; cr3?: bigint }): { context?: object } {
  const fields = {
    ...(r.rip === undefined ? {} : { rip: r.rip }),
    ...(r.rsp === undefined ? {} : { rsp: r.rsp }),
    ...(r.cr3 === undefined ? {} : { cr3: r.cr3 }),
  }
  return Object.keys(fields).length === 0 ? {} : { context: fields }
}

/** The route and body of a request. */
export function routeOf(r: VtldRequest, input: RouteInput = {}): Route {
  switch (r.op) {
    case 'td.create':
      return {
        method: 'POST',
        path: '/v1/tds',
        body: {
          ...(r.name === undefined ? {} : { name: r.name }),
          vps: r.vps,
          memory: r.memory,
          gpaWidth: r.gpaWidth,
          mbec: r.mbec,
        },
      }
    case 'td.list':
      return { method: 'GET', path: '/v1/tds' }
    case 'td.show':
      return { method: 'GET', path: td(r.td) }
    case 'td.delete':
      return { method: 'DELETE', path: `${td(r.td)}${r.force ? '?force=true' : ''}` }
    case 'td.save':
      return { method: 'GET', path: `${td(r.td)}/snapshot` }
    case 'td.restore':
      return {
        method: 'POST',
        path: '/v1/tds/restore',
        body: { ...(r.name === undefined ? {} : { name: r.name }), snapshot: input.snapshot },
      }
    case 'vsm.enable-partition':
      return {
        method: 'POST',
        path: `${td(r.td)}/vsm/enable-partition-vtl`,
        body: { vp: r.vp, targetVtl: r.targetVtl, mbec: r.mbec },
      }
    case 'vsm.enable-vp':
    case 'vsm.start-vp':
      return {
        method: 'POST',
        path: `${td(r.td)}/vsm/${r.op === 'vsm.enable-vp' ? 'enable-vp-vtl' : 'start-vp'}`,
        body: { vp: r.vp, targetVp: r.targetVp, targetVtl: r.targetVtl, ...context(r) },
      }
    case 'vsm.config':
      return r.set === undefined
        ? { method: 'GET', path: `${td(r.td)}/vsm/partition-config${query({ vp: r.vp })}` }
        : {
            method: 'PUT',
            path: `${td(r.td)}/vsm/partition-config`,
            body: { vp: r.vp, value: r.set },
          }
    case 'vsm.status':
      return { method: 'GET', path: `${td(r.td)}/status` }
    case 'mem.protect':
      return {
        method: 'POST',
        path: `${td(r.td)}/memory/protect`,
        body: {
          vp: r.vp,
          ...(r.targetVtl === undefined ? {} : { targetVtl: r.targetVtl }),
          start: r.start,
          size: r.size,
          flags: r.flags,
        },
      }
    case 'mem.share':
    case 'mem.unshare':
      return {
        method: 'POST',
        path: `${td(r.td)}/memory/${r.op === 'mem.share' ? 'share' : 'unshare'}`,
        body: { vp: r.vp, start: r.start, size: r.size },
      }
    case 'mem.show':
      return {
        method: 'GET',
        path: `${td(r.td)}/memory/runs${query({
          start: r.start,
          size: r.size,
          cursor: input.cursor,
          limit: RUNS_PAGE_LIMIT,
        })}`,
      }
    case 'hypercall':
      return {
        method: 'POST',
        path: `${td(r.td)}/hypercall`,
        body: {
          vp: r.vp,
          ...(r.vtl === undefined ? {} : { vtl: r.vtl }),
          code: r.code,
          input: r.input,
          repCount: r.repCount,
          fast: r.fast,
        },
      }
    case 'trace':
      return { method: 'GET', path: `${td(r.td)}/trace${query({ limit: r.limit })}` }
    case 'td.steps':
      return { method: 'POST', path: `${td(r.td)}/steps`, body: { steps: r.steps } }
  }
}

/** The SSE stream of a TD's trace events. */
export function traceEventsRoute(id: string): Route {
  return { method: 'GET', path: `${td(id)}/trace/events` }
}
