import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import type { Context, MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import type { TdSnapshot } from '@vtl/sim'
import { idempotency, type IdempotencyEnv } from './idempotency.js'
import { ProblemError, problem, problemResponse } from './problem.js'
import { runScenarioInThread, type ScenarioRunner } from './scenario-run.js'
import {
  AcceptBody,
  AcceptResultSchema,
  ChromeTraceSchema,
  CreateTdBody,
  DeleteQuery,
  EnablePartitionVtlBody,
  EnableVpVtlBody,
  HostVisibilityBody,
  HypercallBody,
  HypercallResultSchema,
  PartitionConfigBody,
  PartitionConfigSchema,
  ProblemSchema,
  ProtectBody,
  RangeResultSchema,
  RestoreBody,
  RunsQuery,
  RunsSchema,
  ScenarioReportSchema,
  SnapshotSchema,
  StartVpBody,
  StepResultSchema,
  StepsBody,
  StepsResultSchema,
  TdIdParams,
  TdListSchema,
  TdSchema,
  TdStatusSchema,
  TraceQuery,
  VpQuery,
} from './schemas.js'
import type { Idempotency, TdService } from './td-service.js'
import { traceStream } from './trace-stream.js'

/** The methods whose requests carry a body (the others skip the body limit). */
const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** What the app needs. */
export interface AppDeps {
  tds: TdService
  /** Largest request body in bytes (default 1 MiB). */
  bodyLimit?: number
  /** Largest POST /v1/tds/restore body in bytes (default 64 MiB: snapshots carry the trace). */
  snapshotBodyLimit?: number
  /** False while the daemon is starting or draining (GET /readyz answers 503). */
  ready?: () => boolean
  /** Runs POST /v1/scenarios/run (default: in this thread; vtld passes a worker-thread one). */
  runScenario?: ScenarioRunner
  /** Milliseconds between SSE comment heartbeats (default 15 000). */
  heartbeatMs?: number
}

const problemContent = { 'application/problem+json': { schema: ProblemSchema } }
const errors = {
  400: { description: 'Bad input', content: problemContent },
  404: { description: 'Unknown TD', content: problemContent },
  409: { description: 'Conflict', content: problemContent },
  413: { description: 'Body too large', content: problemContent },
} as const
const mutationErrors = {
  ...errors,
  409: {
    description: 'A name in use, a failed TD (E_TD_FAILED) or a vtl assertion (E_VTL_MISMATCH)',
    content: problemContent,
  },
  422: { description: 'Idempotency-Key reused for another request', content: problemContent },
} as const

const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .optional()
    .openapi({
      param: { name: 'idempotency-key', in: 'header' },
      description: 'a retry with the same key and request answers the first answer again',
    }),
})

/** JSON with bigints as 0x hex (the wire form of 64-bit values). */
function toWire(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))
  )
}

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})

const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
})

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

/** A POST on a TD that answers what the guest sees. */
function tdCommand<B extends z.ZodType, R extends z.ZodType>(
  path: string,
  summary: string,
  body: B,
  result: R
) {
  return createRoute({
    method: 'post',
    path,
    summary,
    request: { params: TdIdParams, headers: IdempotencyHeaders, body: jsonBody(body) },
    responses: { 200: json(result, 'What the guest sees'), ...mutationErrors },
  })
}

const hypercall = tdCommand(
  '/v1/tds/{id}/hypercall',
  'Issue a raw hypercall from a VP; answers what the guest sees',
  HypercallBody,
  HypercallResultSchema
)
const steps = tdCommand(
  '/v1/tds/{id}/steps',
  'Perform scenario-format.md steps in order (all validated before any runs)',
  StepsBody,
  StepsResultSchema
)
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

const memoryRuns = createRoute({
  method: 'get',
  path: '/v1/tds/{id}/memory/runs',
  summary: 'Runs of pages with the same state (default: the TD RAM), paged',
  request: { params: TdIdParams, query: RunsQuery },
  responses: { 200: json(RunsSchema, 'Runs'), ...errors },
})

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
  summary: 'Trace events as server-sent events (event: trace, id: seq; honours Last-Event-ID)',
  request: {
    params: TdIdParams,
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

const snapshot = createRoute({
  method: 'get',
  path: '/v1/tds/{id}/snapshot',
  summary: "The TD's snapshot document (@vtl/sim saveTd's JSON form)",
  request: { params: TdIdParams },
  responses: { 200: json(SnapshotSchema, 'Snapshot'), ...errors },
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
  responses: { 200: json(ScenarioReportSchema, 'Report'), ...errors },
})

type Env = IdempotencyEnv

/** The answer the service keeps for an Idempotency-Key: `status` and the wire body. */
function idem<T>(
  c: Context<Env>,
  status: number,
  wire: (value: T) => unknown = toWire
): Idempotency<T> | undefined {
  const request = c.get('idempotency')
  if (request === undefined) return undefined
  return {
    ...request,
    render: (value) => ({ status, body: status === 204 ? '' : JSON.stringify(wire(value)) }),
  }
}

/** The daemon's HTTP app (no listener: `app.request()` in tests, `getRequestListener` in vtld). */
export function createApp(deps: AppDeps) {
  const { tds } = deps
  const runScenario = deps.runScenario ?? runScenarioInThread
  const heartbeatMs = deps.heartbeatMs ?? 15_000
  const app = new OpenAPIHono<Env>({
    defaultHook: (result) => {
      if (!result.success) {
        return problemResponse(
          problem('E_VALIDATION', z.prettifyError(result.error), { issues: result.error.issues })
        )
      }
      return undefined
    },
  })

  const limit = (maxSize: number): MiddlewareHandler<Env> =>
    bodyLimit({
      maxSize,
      onError: () =>
        problemResponse(problem('E_BODY_TOO_LARGE', `request body exceeds ${maxSize} bytes`)),
    })
  const requestLimit = limit(deps.bodyLimit ?? 1 << 20)
  const snapshotLimit = limit(deps.snapshotBodyLimit ?? 64 << 20)
  // Only methods with a body: reading `c.req.raw.body` makes @hono/node-server build a full
  // Request, which made every GET (status reads) slow.
  const bodyLimits: MiddlewareHandler<Env> = (c, next) => {
    if (!BODY_METHODS.has(c.req.method)) return next()
    return c.req.path === '/v1/tds/restore' ? snapshotLimit(c, next) : requestLimit(c, next)
  }
  app.use('*', bodyLimits)
  app.use(
    '*',
    idempotency((key) => tds.idempotentAnswer(key))
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

  app.openapi(createTd, (c) => c.json(tds.create(c.req.valid('json'), idem(c, 201)), 201))
  app.openapi(restoreTdRoute, (c) => {
    const { name, snapshot: document } = c.req.valid('json')
    return c.json(tds.restore(name, document as unknown as TdSnapshot, idem(c, 201)), 201)
  })
  app.openapi(listTds, (c) => c.json({ tds: tds.list() }, 200))
  app.openapi(showTd, (c) => c.json(tds.show(c.req.valid('param').id), 200))
  app.openapi(deleteTd, async (c) => {
    const force = c.req.valid('query').force === 'true'
    await tds.delete(c.req.valid('param').id, { force }, idem(c, 204))
    return c.body(null, 204)
  })
  app.openapi(tdStatus, async (c) => {
    const status = (await tds.status(c.req.valid('param').id)) as z.infer<typeof TdStatusSchema>
    return c.json(status, 200)
  })

  const stepAnswer = (result: unknown) => toWire(result) as z.infer<typeof HypercallResultSchema>
  app.openapi(hypercall, async (c) => {
    const result = await tds.hypercall(c.req.valid('param').id, c.req.valid('json'), idem(c, 200))
    return c.json(stepAnswer(result), 200)
  })
  app.openapi(steps, async (c) => {
    const wire = (done: unknown) => ({ results: toWire(done) })
    const done = await tds.steps(
      c.req.valid('param').id,
      c.req.valid('json').steps,
      idem(c, 200, wire)
    )
    return c.json(wire(done) as z.infer<typeof StepsResultSchema>, 200)
  })
  app.openapi(enablePartitionVtl, async (c) => {
    const result = await tds.enablePartitionVtl(
      c.req.valid('param').id,
      c.req.valid('json'),
      idem(c, 200)
    )
    return c.json(stepAnswer(result), 200)
  })
  app.openapi(enableVpVtl, async (c) => {
    const result = await tds.enableVpVtl(c.req.valid('param').id, c.req.valid('json'), idem(c, 200))
    return c.json(stepAnswer(result), 200)
  })
  app.openapi(startVp, async (c) => {
    const result = await tds.startVp(c.req.valid('param').id, c.req.valid('json'), idem(c, 200))
    return c.json(stepAnswer(result), 200)
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
    return c.json(stepAnswer(result), 200)
  })

  const rangeAnswer = (result: unknown) => toWire(result) as z.infer<typeof RangeResultSchema>
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

  app.openapi(traceJson, async (c) => {
    const trace = await tds.trace(c.req.valid('param').id, c.req.valid('query').limit)
    return c.json(trace as unknown as z.infer<typeof ChromeTraceSchema>, 200)
  })
  app.openapi(traceEvents, (c) => {
    const { id } = c.req.valid('param')
    if (!tds.streaming) throw new ProblemError('E_SHUTTING_DOWN', 'vtld is closing its streams')
    tds.show(id)
    return traceStream(c, tds, id, heartbeatMs)
  })
  app.openapi(snapshot, async (c) => {
    const document = await tds.snapshotDocument(c.req.valid('param').id)
    return c.json(document as unknown as z.infer<typeof SnapshotSchema>, 200)
  })

  app.openapi(runScenarioRoute, async (c) => {
    const report = await runScenario(await c.req.text(), c.req.header('content-type') ?? '')
    return c.json(toWire(report) as z.infer<typeof ScenarioReportSchema>, 200)
  })

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'vtld', version: '0.0.0', description: 'VTL daemon API (@vtl/daemon)' },
  })
  return app
}
