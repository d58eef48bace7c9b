import { createRoute } from '@hono/zod-openapi'
import {
  EnablePartitionVtlBody,
  EnableVpVtlBody,
  PartitionConfigBody,
  PartitionConfigSchema,
  StartVpBody,
  StepResultSchema,
  TdIdParams,
  VpQuery,
} from '../schemas.js'
import type { TdService } from '../td-service.js'
import {
  IdempotencyHeaders,
  errors,
  idem,
  json,
  jsonBody,
  mutationErrors,
  stepAnswer,
  tdCommand,
  type RouteApp,
} from './helpers.js'

const enablePartitionVtl = tdCommand(
  '/v1/tds/{id}/vsm/enable-partition-vtl',
  'HvCallEnablePartitionVtl from a VP',
  EnablePartitionVtlBody,
  StepResultSchema
)
const enableVpVtl = tdCommand(
  '/v1/tds/{id}/vsm/enable-vp-vtl',
  'HvCallEnableVpVtl from a VP (context fields left out: the scenario default)',
  EnableVpVtlBody,
  StepResultSchema
)
const startVp = tdCommand(
  '/v1/tds/{id}/vsm/start-vp',
  'HvCallStartVirtualProcessor from a VP',
  StartVpBody,
  StepResultSchema
)

const getPartitionConfig = createRoute({
  method: 'get',
  path: '/v1/tds/{id}/vsm/partition-config',
  summary: "HvRegisterVsmPartitionConfig as the VP's active VTL reads it",
  request: { params: TdIdParams, query: VpQuery },
  responses: { 200: json(PartitionConfigSchema, 'The register'), ...errors },
})

const putPartitionConfig = createRoute({
  method: 'put',
  path: '/v1/tds/{id}/vsm/partition-config',
  summary: 'Write HvRegisterVsmPartitionConfig from a VP (a guest register write)',
  request: { params: TdIdParams, headers: IdempotencyHeaders, body: jsonBody(PartitionConfigBody) },
  responses: { 200: json(StepResultSchema, 'What the guest sees'), ...mutationErrors },
})

/** The typed VSM calls and HvRegisterVsmPartitionConfig. */
export function registerVsmRoutes(app: RouteApp, tds: TdService): void {
  app.openapi(enablePartitionVtl, async (c) => {
    const result = await tds.enablePartitionVtl(
      c.req.valid('param').id,
      c.req.valid('json'),
      idem(c, 200)
    )
    return stepAnswer(c, result)
  })
  app.openapi(enableVpVtl, async (c) => {
    const result = await tds.enableVpVtl(c.req.valid('param').id, c.req.valid('json'), idem(c, 200))
    return stepAnswer(c, result)
  })
  app.openapi(startVp, async (c) => {
    const result = await tds.startVp(c.req.valid('param').id, c.req.valid('json'), idem(c, 200))
    return stepAnswer(c, result)
  })
  app.openapi(getPartitionConfig, async (c) =>
    c.json(await tds.partitionConfig(c.req.valid('param').id, c.req.valid('query').vp), 200)
  )
  app.openapi(putPartitionConfig, async (c) => {
    const result = await tds.setPartitionConfig(
      c.req.valid('param').id,
      c.req.valid('json'),
      idem(c, 200)
    )
    return stepAnswer(c, result)
  })
}
