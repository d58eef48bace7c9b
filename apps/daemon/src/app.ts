import { OpenAPIHono, z } from '@hono/zod-openapi'
import type { ErrorHandler, MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import { idempotency, type IdempotencyEnv } from './idempotency.js'
import { jsonDepthLimit } from './json-depth.js'
import { chain } from './middleware-chain.js'
import { notFound } from './not-found.js'
import { ProblemError, problem, problemResponse } from './problem.js'
import {
  documentIdempotencyHeaders,
  registerMemoryRoutes,
  registerScenarioRoutes,
  registerSnapshotRoutes,
  registerStepRoutes,
  registerTdRoutes,
  registerTraceRoutes,
  registerVsmRoutes,
} from './routes/index.js'
import { runScenarioInThread, type ScenarioRunner } from './scenario-run.js'
import type { TdService } from './td-service.js'

/** The methods whose requests carry a body (the others skip the body checks). */
const BODY_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE']

/** How the API answers an error a handler threw: a problem document (E_INTERNAL when untyped). */
export const apiErrorHandler: ErrorHandler = (error) => {
  if (error instanceof ProblemError) {
    return problemResponse(problem(error.code, error.message, error.extra))
  }
  if (error instanceof HTTPException) {
    if (error.status === 413) return problemResponse(problem('E_BODY_TOO_LARGE', error.message))
    if (error.status === 415) return problemResponse(problem('E_UNSUPPORTED_MEDIA', error.message))
    if (error.status < 500) return problemResponse(problem('E_BAD_REQUEST', error.message))
  }
  return problemResponse(
    problem('E_INTERNAL', error instanceof Error ? error.message : 'internal error')
  )
}

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
  /** Trace events one SSE stream may hold for a slow reader before it is dropped (4096). */
  sseMaxBuffered?: number
  /**
   * The app is mounted (`route`) on one that answers errors with `apiErrorHandler`: it registers
   * no error handler of its own (else hono wraps every one of its routes in a compose of its own).
   */
  mounted?: boolean
}

type Env = IdempotencyEnv

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
  documentIdempotencyHeaders(app)

  const limit = (maxSize: number): MiddlewareHandler<Env> => {
    const onError = (): Response =>
      problemResponse(problem('E_BODY_TOO_LARGE', `request body exceeds ${maxSize} bytes`))
    const streamed = bodyLimit({ maxSize, onError })
    // A declared length is checked as hono's bodyLimit does, without reading `c.req.raw.body`:
    // that makes @hono/node-server build a full Request and stream the body through web streams.
    return (c, next) => {
      const length = c.req.header('content-length')
      if (length === undefined || c.req.header('transfer-encoding') !== undefined) {
        return streamed(c, next)
      }
      return parseInt(length, 10) > maxSize ? Promise.resolve(onError()) : next()
    }
  }
  const depthLimit = jsonDepthLimit<Env>()
  const requestLimit = limit(deps.bodyLimit ?? 1 << 20)
  const snapshotLimit = limit(deps.snapshotBodyLimit ?? 64 << 20)
  const idempotent = idempotency((key) => tds.idempotentAnswer(key))
  // The body checks in their order (size, nesting, then the Idempotency-Key) as one middleware
  // (each registered one costs hono a dispatch and, on an app with its own error handler, a
  // compose of its own), registered for the methods with a body only: a GET never passes through
  // it, and reading `c.req.raw.body` would make @hono/node-server build a full Request.
  const bodyChecks = (limitOf: MiddlewareHandler<Env>) => chain(limitOf, depthLimit, idempotent)
  const requestChecks = bodyChecks(requestLimit)
  const snapshotChecks = bodyChecks(snapshotLimit)
  app.on([...BODY_METHODS], '*', (c, next) =>
    c.req.path === '/v1/tds/restore' ? snapshotChecks(c, next) : requestChecks(c, next)
  )

  // Mounted, the errors are answered by the mounting app (`apiErrorHandler`, registered there):
  // hono wraps each route of an app with a handler of its own in a compose per request.
  if (deps.mounted !== true) app.onError(apiErrorHandler)

  app.notFound(notFound(() => app.routes))

  app.get('/healthz', (c) => c.json({ ok: true }))
  app.get('/readyz', (c) => {
    const ready = deps.ready?.() ?? true
    return c.json({ ready }, ready ? 200 : 503)
  })

  // Registration order is the order of /openapi.json's paths and components: keep it.
  registerTdRoutes(app, tds)
  registerStepRoutes(app, tds)
  registerVsmRoutes(app, tds)
  registerMemoryRoutes(app, tds)
  registerTraceRoutes(app, tds, heartbeatMs, deps.sseMaxBuffered)
  registerSnapshotRoutes(app, tds)
  registerScenarioRoutes(app, runScenario)

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'vtld', version: '0.0.0', description: 'VTL daemon API (@vtl/daemon)' },
  })
  return app
}
