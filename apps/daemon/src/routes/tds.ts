import { createRoute, type z } from '@hono/zod-openapi'
import type { TdSnapshot } from '@vtl/sim'
import {
  CreateTdBody,
  DeleteQuery,
  RestoreBody,
  TdIdParams,
  TdListSchema,
  TdSchema,
  TdStatusSchema,
} from '../schemas.js'
import type { TdService } from '../td-service.js'
import {
  IdempotencyHeaders,
  errors,
  idem,
  json,
  jsonText,
  jsonBody,
  mutationErrors,
  type RouteApp,
} from './helpers.js'

const createTd = createRoute({
  method: 'post',
  path: '/v1/tds',
  summary: 'Create a simulated TD',
  request: { headers: IdempotencyHeaders, body: jsonBody(CreateTdBody) },
  responses: { 201: json(TdSchema, 'Created'), ...mutationErrors },
})

const restoreTdRoute = createRoute({
  method: 'post',
  path: '/v1/tds/restore',
  summary: 'Create a TD from a snapshot document',
  request: { headers: IdempotencyHeaders, body: jsonBody(RestoreBody) },
  responses: { 201: json(TdSchema, 'Created'), ...mutationErrors },
})

const listTds = createRoute({
  method: 'get',
  path: '/v1/tds',
  summary: 'List TDs',
  responses: { 200: json(TdListSchema, 'TDs') },
})

const showTd = createRoute({
  method: 'get',
  path: '/v1/tds/{id}',
  summary: 'Show a TD',
  request: { params: TdIdParams },
  responses: { 200: json(TdSchema, 'The TD'), ...errors },
})

const deleteTd = createRoute({
  method: 'delete',
  path: '/v1/tds/{id}',
  summary: 'Delete a TD (after its queued commands; force: now, the queued ones fail E_NO_TD)',
  request: { params: TdIdParams, query: DeleteQuery, headers: IdempotencyHeaders },
  responses: { 204: { description: 'Deleted' }, ...mutationErrors },
})

const tdStatus = createRoute({
  method: 'get',
  path: '/v1/tds/{id}/status',
  summary: 'Guest VSM state of the partition and of each VP',
  request: { params: TdIdParams },
  responses: { 200: json(TdStatusSchema, 'Status'), ...errors },
})

/** The TDs: create, restore from a snapshot, list, show, delete, and their guest VSM status. */
export function registerTdRoutes(app: RouteApp, tds: TdService): void {
  app.openapi(createTd, async (c) => c.json(await tds.open(c.req.valid('json'), idem(c, 201)), 201))
  app.openapi(restoreTdRoute, async (c) => {
    const { name, snapshot: document } = c.req.valid('json')
    return c.json(await tds.restore(name, document as unknown as TdSnapshot, idem(c, 201)), 201)
  })
  app.openapi(listTds, (c) => c.json({ tds: tds.list() }, 200))
  app.openapi(showTd, (c) => c.json(tds.show(c.req.valid('param').id), 200))
  app.openapi(deleteTd, async (c) => {
    const force = c.req.valid('query').force === 'true'
    await tds.delete(c.req.valid('param').id, { force }, idem(c, 204))
    return c.body(null, 204)
  })
  // The JSON text as the service keeps it, not parsed and made again.
  app.openapi(tdStatus, async (c) => {
    const text = await tds.statusJson(c.req.valid('param').id)
    return jsonText<z.infer<typeof TdStatusSchema>>(c, text)
  })
}
