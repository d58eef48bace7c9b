import { createRoute, type z } from '@hono/zod-openapi'
import {
  AcceptBody,
  AcceptResultSchema,
  HostVisibilityBody,
  ProtectBody,
  RangeResultSchema,
  RunsQuery,
  RunsSchema,
  TdIdParams,
} from '../schemas.js'
import type { TdService } from '../td-service.js'
import { errors, idem, json, tdCommand, toWire, type RouteApp } from './helpers.js'

const protect = tdCommand(
  '/v1/tds/{id}/memory/protect',
  'HvCallModifyVtlProtectionMask over a range (one call per 510 pages)',
  ProtectBody,
  RangeResultSchema
)
const share = tdCommand(
  '/v1/tds/{id}/memory/share',
  'HvCallModifySparseGpaPageHostVisibility: make a range shared with the host',
  HostVisibilityBody,
  RangeResultSchema
)
const unshare = tdCommand(
  '/v1/tds/{id}/memory/unshare',
  'HvCallModifySparseGpaPageHostVisibility: make a range private again',
  HostVisibilityBody,
  RangeResultSchema
)
const accept = tdCommand(
  '/v1/tds/{id}/memory/accept',
  'The paravisor accepts private RAM (TDG.MEM.PAGE.ACCEPT)',
  AcceptBody,
  AcceptResultSchema
)

const memoryRuns = createRoute({
  method: 'get',
  path: '/v1/tds/{id}/memory/runs',
  summary: 'Runs of pages with the same state (default: the TD RAM), paged',
  request: { params: TdIdParams, query: RunsQuery },
  responses: { 200: json(RunsSchema, 'Runs'), ...errors },
})

const rangeAnswer = (result: unknown) => toWire(result) as z.infer<typeof RangeResultSchema>

/** Guest memory: VTL protections, host visibility, acceptance, and the runs of page state. */
export function registerMemoryRoutes(app: RouteApp, tds: TdService): void {
  app.openapi(protect, async (c) => {
    const result = await tds.protect(c.req.valid('param').id, c.req.valid('json'), idem(c, 200))
    return c.json(rangeAnswer(result), 200)
  })
  app.openapi(share, async (c) => {
    const body = { ...c.req.valid('json'), shared: true }
    return c.json(
      rangeAnswer(await tds.hostVisibility(c.req.valid('param').id, body, idem(c, 200))),
      200
    )
  })
  app.openapi(unshare, async (c) => {
    const body = { ...c.req.valid('json'), shared: false }
    return c.json(
      rangeAnswer(await tds.hostVisibility(c.req.valid('param').id, body, idem(c, 200))),
      200
    )
  })
  app.openapi(accept, async (c) =>
    c.json(await tds.accept(c.req.valid('param').id, c.req.valid('json'), idem(c, 200)), 200)
  )
  app.openapi(memoryRuns, async (c) =>
    c.json(await tds.runs(c.req.valid('param').id, c.req.valid('query')), 200)
  )
}
