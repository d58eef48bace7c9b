import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { VtlError } from '@vtl/core'
import { parseScenario, runScenario, ScenarioError } from '@vtl/sim'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import { ProblemError, problem, problemResponse } from './problem.js'
import {
  CreateTdBody,
  HypercallBody,
  HypercallResultSchema,
  ProblemSchema,
  ScenarioReportSchema,
  TdIdParams,
  TdListSchema,
  TdSchema,
  TdStatusSchema,
} from './schemas.js'
import type { TdService } from './td-service.js'

/** What the app needs. */
export interface AppDeps {
  tds: TdService
  /** Largest request body in bytes (default 1 MiB). */
  bodyLimit?: number
  /** False while the daemon is starting or draining (GET /readyz answers 503). */
  ready?: () => boolean
}

const problemContent = { 'application/problem+json': { schema: ProblemSchema } }
const errors = {
  400: { description: 'Bad input', content: problemContent },
  404: { description: 'Unknown TD', content: problemContent },
  409: { description: 'Conflict', content: problemContent },
  413: { description: 'Body too large', content: problemContent },
} as const

/** JSON with bigints as 0x hex (the wire form of 64-bit values). */
function toWire(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))
  )
}

const createTd = createRoute({
  method: 'post',
  path: '/v1/tds',
  summary: 'Create a simulated TD',
  request: { body: { required: true, content: { 'application/json': { schema: CreateTdBody } } } },
  responses: {
    201: { description: 'Created', content: { 'application/json': { schema: TdSchema } } },
    ...errors,
  },
})

const listTds = createRoute({
  method: 'get',
  path: '/v1/tds',
  summary: 'List TDs',
  responses: {
    200: { description: 'TDs', content: { 'application/json': { schema: TdListSchema } } },
  },
})

const showTd = createRoute({
  method: 'get',
  path: '/v1/tds/{id}',
  summary: 'Show a TD',
  request: { params: TdIdParams },
  responses: {
    200: { description: 'The TD', content: { 'application/json': { schema: TdSchema } } },
    ...errors,
  },
})

const deleteTd = createRoute({
  method: 'delete',
  path: '/v1/tds/{id}',
  summary: 'Delete a TD (after its queued commands)',
  request: { params: TdIdParams },
  responses: { 204: { description: 'Deleted' }, ...errors },
})

const tdStatus = createRoute({
  method: 'get',
  path: '/v1/tds/{id}/status',
  summary: 'Guest VSM state of the partition and of each VP',
  request: { params: TdIdParams },
  responses: {
    200: { description: 'Status', content: { 'application/json': { schema: TdStatusSchema } } },
    ...errors,
  },
})

const hypercall = createRoute({
  method: 'post',
  path: '/v1/tds/{id}/hypercall',
  summary: 'Issue a raw hypercall from a VP; answers what the guest sees',
  request: {
    params: TdIdParams,
    body: { required: true, content: { 'application/json': { schema: HypercallBody } } },
  },
  responses: {
    200: {
      description: 'The guest-visible result',
      content: { 'application/json': { schema: HypercallResultSchema } },
    },
    ...errors,
  },
})

const runScenarioRoute = createRoute({
  method: 'post',
  path: '/v1/scenarios/run',
  summary: 'Run a scenario file (scenario-format.md) on a fresh TD; answers the report',
  request: {
    body: {
      required: true,
      content: {
        'application/json': { schema: z.looseObject({}) },
        'application/yaml': { schema: z.string() },
        'text/plain': { schema: z.string() },
      },
    },
  },
  responses: {
    200: {
      description: 'Report',
      content: { 'application/json': { schema: ScenarioReportSchema } },
    },
    ...errors,
  },
})

/** The daemon's HTTP app (no listener: `app.request()` in tests, `getRequestListener` in vtld). */
export function createApp(deps: AppDeps) {
  const { tds } = deps
  const app = new OpenAPIHono({
    defaultHook: (result) => {
      if (!result.success) {
        return problemResponse(
          problem('E_VALIDATION', z.prettifyError(result.error), { issues: result.error.issues })
        )
      }
      return undefined
    },
  })

  app.use(
    '*',
    bodyLimit({
      maxSize: deps.bodyLimit ?? 1 << 20,
      onError: () =>
        problemResponse(
          problem('E_BODY_TOO_LARGE', `request body exceeds ${deps.bodyLimit ?? 1 << 20} bytes`)
        ),
    })
  )

  app.onError((error) => {
    if (error instanceof ProblemError) {
      return problemResponse(problem(error.code, error.message, error.extra))
    }
    if (error instanceof HTTPException) {
      if (error.status === 413) return problemResponse(problem('E_BODY_TOO_LARGE', error.message))
      if (error.status === 415)
        return problemResponse(problem('E_UNSUPPORTED_MEDIA', error.message))
      if (error.status < 500) return problemResponse(problem('E_BAD_REQUEST', error.message))
    }
    return problemResponse(
      problem('E_INTERNAL', error instanceof Error ? error.message : 'internal error')
    )
  })

  app.notFound((c) =>
    problemResponse(problem('E_NOT_FOUND', `no route ${c.req.method} ${c.req.path}`))
  )

  app.get('/healthz', (c) => c.json({ ok: true }))
  app.get('/readyz', (c) => {
    const ready = deps.ready?.() ?? true
    return c.json({ ready }, ready ? 200 : 503)
  })

  app.openapi(createTd, (c) => {
    const body = c.req.valid('json')
    return c.json(tds.create(body), 201)
  })
  app.openapi(listTds, (c) => c.json({ tds: tds.list() }, 200))
  app.openapi(showTd, (c) => c.json(tds.show(c.req.valid('param').id), 200))
  app.openapi(deleteTd, async (c) => {
    await tds.delete(c.req.valid('param').id)
    return c.body(null, 204)
  })
  app.openapi(tdStatus, async (c) => {
    const status = (await tds.status(c.req.valid('param').id)) as z.infer<typeof TdStatusSchema>
    return c.json(status, 200)
  })
  app.openapi(hypercall, async (c) => {
    const result = await tds.hypercall(c.req.valid('param').id, c.req.valid('json'))
    return c.json(toWire(result) as z.infer<typeof HypercallResultSchema>, 200)
  })
  app.openapi(runScenarioRoute, async (c) => {
    const text = await c.req.text()
    let report
    try {
      report = runScenario(parseScenario(text, 'request'))
    } catch (error) {
      if (error instanceof ScenarioError) throw new ProblemError('E_SCENARIO', error.message)
      // The simulator refusing the file's partition (e.g. memory beyond the GPA width).
      if (VtlError.isInstance(error)) {
        throw new ProblemError('E_SCENARIO', `${error.message} (${error.code})`)
      }
      throw error
    }
    return c.json(toWire(report) as z.infer<typeof ScenarioReportSchema>, 200)
  })

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'vtld', version: '0.0.0', description: 'VTL daemon API (@vtl/daemon)' },
  })
  return app
}
