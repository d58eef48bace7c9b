import type { VtldRequest } from './client.js'
import type { Restore, VtldRoutes } from './vtld-api.js'

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

/** Every vtld route, keyed `METHOD /path/{param}` (generated from the daemon's /openapi.json). */
export type RouteKey = keyof VtldRoutes

/**
 * A value as the CLI holds it before the JSON encoding of wire.ts: where the daemon takes a
 * string, a bigint (`0x` hex) or bytes (hex pairs) do too.
 */
export type Wire<T> = T extends string
  ? string | bigint | Uint8Array
  : T extends readonly (infer U)[]
    ? readonly Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T

/** Query fields (each may be left out) and the body, where the route takes one. */
type Parts<K extends RouteKey> = {
  query?: { [P in keyof VtldRoutes[K]['query']]?: Wire<VtldRoutes[K]['query'][P]> | undefined }
} & (VtldRoutes[K]['body'] extends undefined
  ? { body?: undefined }
  : { body: Wire<VtldRoutes[K]['body']> })

/**
 * One exchange on a route, checked against the daemon's: a renamed path, parameter or body field
 * is a type error here.
 */
export function call<K extends RouteKey>(
  key: K,
  params: VtldRoutes[K]['params'],
  parts: Parts<K>
): Route {
  const [method = 'GET', template = '/'] = key.split(' ')
  const path = template.replace(/\{(\w+)\}/g, (_m, name: string) =>
    encodeURIComponent(String((params as Record<string, unknown>)[name]))
  )
  return {
    method: method as HttpMethod,
    // Query values are numbers, strings and bigints (no route takes bytes in its query).
    path: `${path}${query((parts.query ?? {}) as Record<string, string | number | bigint | undefined>)}`,
    ...(parts.body === undefined ? {} : { body: parts.body }),
  }
}

function query(fields: Readonly<Record<string, string | number | bigint | undefined>>): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined) params.set(k, typeof v === 'bigint' ? `0x${v.toString(16)}` : String(v))
  }
  const text = params.toString()
  return text === '' ? '' : `?${text}`
}

/** The initial VP context fields a VSM request carries, under `context` when there are any. */
function context(r: { rip?: bigint; rsp?: bigint; cr3?: bigint }): {
  context?: Record<string, bigint>
} {
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
      return call(
        'POST /v1/tds',
        {},
        {
          body: {
            ...(r.name === undefined ? {} : { name: r.name }),
            vps: r.vps,
            memory: r.memory,
            gpaWidth: r.gpaWidth,
            mbec: r.mbec,
          },
        }
      )
    case 'td.list':
      return call('GET /v1/tds', {}, {})
    case 'td.show':
      return call('GET /v1/tds/{id}', { id: r.td }, {})
    case 'td.delete':
      return call('DELETE /v1/tds/{id}', { id: r.td }, r.force ? { query: { force: 'true' } } : {})
    case 'td.save':
      return call('GET /v1/tds/{id}/snapshot', { id: r.td }, {})
    case 'td.restore':
      return call(
        'POST /v1/tds/restore',
        {},
        {
          body: {
            ...(r.name === undefined ? {} : { name: r.name }),
            // The file's document, checked by the daemon (a snapshot is opaque to the CLI).
            snapshot: input.snapshot as Wire<Restore['snapshot']>,
          },
        }
      )
    case 'vsm.enable-partition':
      return call(
        'POST /v1/tds/{id}/vsm/enable-partition-vtl',
        { id: r.td },
        {
          body: { vp: r.vp, targetVtl: r.targetVtl, mbec: r.mbec },
        }
      )
    case 'vsm.enable-vp':
      return call(
        'POST /v1/tds/{id}/vsm/enable-vp-vtl',
        { id: r.td },
        {
          body: { vp: r.vp, targetVp: r.targetVp, targetVtl: r.targetVtl, ...context(r) },
        }
      )
    case 'vsm.start-vp':
      return call(
        'POST /v1/tds/{id}/vsm/start-vp',
        { id: r.td },
        {
          body: { vp: r.vp, targetVp: r.targetVp, targetVtl: r.targetVtl, ...context(r) },
        }
      )
    case 'vsm.config':
      return r.set === undefined
        ? call('GET /v1/tds/{id}/vsm/partition-config', { id: r.td }, { query: { vp: r.vp } })
        : call(
            'PUT /v1/tds/{id}/vsm/partition-config',
            { id: r.td },
            {
              body: { vp: r.vp, value: r.set },
            }
          )
    case 'vsm.status':
      return call('GET /v1/tds/{id}/status', { id: r.td }, {})
    case 'mem.protect':
      return call(
        'POST /v1/tds/{id}/memory/protect',
        { id: r.td },
        {
          body: {
            vp: r.vp,
            ...(r.targetVtl === undefined ? {} : { targetVtl: r.targetVtl }),
            start: r.start,
            size: r.size,
            flags: r.flags,
          },
        }
      )
    case 'mem.share':
      return call(
        'POST /v1/tds/{id}/memory/share',
        { id: r.td },
        {
          body: { vp: r.vp, start: r.start, size: r.size },
        }
      )
    case 'mem.unshare':
      return call(
        'POST /v1/tds/{id}/memory/unshare',
        { id: r.td },
        {
          body: { vp: r.vp, start: r.start, size: r.size },
        }
      )
    case 'mem.show':
      return call(
        'GET /v1/tds/{id}/memory/runs',
        { id: r.td },
        {
          query: { start: r.start, size: r.size, cursor: input.cursor, limit: RUNS_PAGE_LIMIT },
        }
      )
    case 'hypercall':
      return call(
        'POST /v1/tds/{id}/hypercall',
        { id: r.td },
        {
          body: {
            vp: r.vp,
            ...(r.vtl === undefined ? {} : { vtl: r.vtl }),
            code: r.code,
            input: r.input,
            repCount: r.repCount,
            fast: r.fast,
          },
        }
      )
    case 'trace':
      return call('GET /v1/tds/{id}/trace', { id: r.td }, { query: { limit: r.limit } })
    case 'td.steps':
      return call('POST /v1/tds/{id}/steps', { id: r.td }, { body: { steps: r.steps } })
  }
}

/** The SSE stream of a TD's trace events (`fromNow`: without the kept ones first). */
export function traceEventsRoute(id: string, fromNow = false): Route {
  return call('GET /v1/tds/{id}/trace/events', { id }, fromNow ? { query: { from: 'now' } } : {})
}
