import { createRoute, z } from '@hono/zod-openapi'
import { ProblemError } from '../problem.js'
import { ChromeTraceSchema, TdIdParams, TraceQuery } from '../schemas.js'
import type { TdService } from '../td-service.js'
import { traceStream } from '../trace-stream.js'
import { errors, json, problemContent, type RouteApp } from './helpers.js'

const traceJson = createRoute({
  method: 'get',
  path: '/v1/tds/{id}/trace',
  summary: 'The trace as Chrome trace-event JSON (Perfetto); limit: newest events only',
  request: { params: TdIdParams, query: TraceQuery },
  responses: { 200: json(ChromeTraceSchema, 'Chrome trace'), ...errors },
})

const traceEvents = createRoute({
  method: 'get',
  path: '/v1/tds/{id}/trace/events',
  summary:
    'Trace events as server-sent events (event: trace, id: seq): the kept ones after Last-Event-ID, then live ones; from=now: live ones only',
  request: {
    params: TdIdParams,
    query: z.object({
      from: z
        .enum(['now'])
        .optional()
        .openapi({
          param: { name: 'from', in: 'query' },
          description: 'now: no kept events first (Last-Event-ID, when sent, wins)',
        }),
    }),
    headers: z.object({
      'last-event-id': z
        .string()
        .optional()
        .openapi({ param: { name: 'last-event-id', in: 'header' } }),
    }),
  },
  responses: {
    200: {
      description: 'The stream',
      content: { 'text/event-stream': { schema: z.string() } },
    },
    ...errors,
    503: { description: 'The daemon is closing', content: problemContent },
  },
})

/** A TD's trace: Chrome trace-event JSON, and live events over SSE (`heartbeatMs` apart). */
export function registerTraceRoutes(
  app: RouteApp,
  tds: TdService,
  heartbeatMs: number,
  maxBuffered?: number
): void {
  app.openapi(traceJson, async (c) => {
    const trace = await tds.trace(c.req.valid('param').id, c.req.valid('query').limit)
    return c.json(trace as unknown as z.infer<typeof ChromeTraceSchema>, 200)
  })
  app.openapi(traceEvents, (c) => {
    const { id } = c.req.valid('param')
    if (!tds.streaming) throw new ProblemError('E_SHUTTING_DOWN', 'vtld is closing its streams')
    tds.show(id)
    const fromNow = c.req.valid('query').from === 'now'
    return traceStream(c, tds, id, heartbeatMs, maxBuffered, fromNow)
  })
}
