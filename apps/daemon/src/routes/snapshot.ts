import { createRoute, type z } from '@hono/zod-openapi'
import { SnapshotSchema, TdIdParams } from '../schemas.js'
import type { TdService } from '../td-service.js'
import { errors, json, type RouteApp } from './helpers.js'

const snapshot = createRoute({
  method: 'get',
  path: '/v1/tds/{id}/snapshot',
  summary: "The TD's snapshot document (@vtl/sim saveTd's JSON form)",
  request: { params: TdIdParams },
  responses: { 200: json(SnapshotSchema, 'Snapshot'), ...errors },
})

/** A TD's snapshot document (POST /v1/tds/restore, in tds.ts, makes a TD from one). */
export function registerSnapshotRoutes(app: RouteApp, tds: TdService): void {
  app.openapi(snapshot, async (c) => {
    const document = await tds.snapshotDocument(c.req.valid('param').id)
    return c.json(document as unknown as z.infer<typeof SnapshotSchema>, 200)
  })
}
