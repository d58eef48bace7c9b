import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { chmod, mkdir, unlink } from 'node:fs/promises'
import { getRequestListener } from '@hono/node-server'
import { Hono, type MiddlewareHandler } from 'hono'
import type { Logger } from 'pino'
import { apiErrorHandler, createApp } from './app.js'
import { CachedRouter } from './cached-router.js'
import type { TdBackend } from './backend.js'
import { bearerAuth, resolveToken } from './auth.js'
import { lockDataDir, type DataDirLock } from './data-dir-lock.js'
import { openJournal } from './journal-check.js'
import { chain } from './middleware-chain.js'
import { notFound } from './not-found.js'
import { checkOwnPath, privateFiles } from './ownership.js'
import { SOCKET_LISTENER, TCP_LISTENER, type ListenerLimits, type TdLimits } from './limits.js'
import { DaemonMetrics, matchedRoute } from './metrics.js'
import { DEFAULT_REQUEST_TIMEOUT_MS, requestTimeout } from './request-timeout.js'
import { ScenarioWorkers, type ScenarioPoolLimits } from './scenario-worker.js'
import { claimSocketPath } from './socket-path.js'
import { TdService } from './td-service.js'
import { uiGuard, uiRoutes } from './routes/ui.js'
import { UiSessions } from './ui-session.js'
import { defaultConsoleDir } from './ui-static.js'

export interface DaemonOptions {
  /** The unix socket to listen on (always; it needs no token, its 0600 mode guards it). */
  socket: string
  /** Where the SQLite journal (and a generated TCP token) live (created 0700 when missing). */
  dataDir: string
  /** Also listen on TCP; every request there needs `Authorization: Bearer <token>`. */
  listen?: { host: string; port: number }
  /** The TCP token's file (must not be group/world accessible); default `<dataDir>/vtld.token`. */
  tokenFile?: string
  /** Largest request body in bytes. */
  bodyLimit?: number
  /** Time a request may take before it is answered `E_TIMEOUT` (default 30 s). */
  requestTimeoutMs?: number
  /** Scenario worker threads (default: CPUs - 1, at most 4). */
  scenarioWorkers?: number
  /** Also export prom-client's process metrics (CPU, heap, event loop lag) on /metrics. */
  processMetrics?: boolean
  /**
   * Start on a damaged journal from the last good record of each TD (dropping the damaged
   * records and the TD's later ones); without it vtld refuses to start on damage.
   */
  recoverJournal?: boolean
  /** Connection bounds per listener (defaults: `SOCKET_LISTENER`, `TCP_LISTENER`). */
  limits?: {
    socket?: Partial<ListenerLimits>
    tcp?: Partial<ListenerLimits>
    /** TD, VP, memory and per-request cost limits (defaults: `TD_LIMITS`). */
    tds?: Partial<TdLimits>
    /** The scenario queue (default 16 waiting) and run deadline (default: the request timeout). */
    scenarios?: Partial<ScenarioPoolLimits>
  }
  /** One structured line per request here (health probes and scrapes at debug level). */
  log?: Logger
  /** The web console's build, served at /ui/ (default: `@vtl/console`'s dist). */
  consoleDir?: string
  /** The backend new TDs are created on (`checkBackend`'s answer; default `sim`). */
  backend?: TdBackend
}

/** The TCP listener of a running daemon. */
export interface TcpListener {
  host: string
  port: number
  /** The file holding the bearer token (given, or generated 0600 in the data dir). */
  tokenFile: string
}

/** A running daemon. */
export interface Daemon {
  readonly socket: string
  readonly tcp: TcpListener | undefined
  readonly tds: TdService
  readonly metrics: DaemonMetrics
  /**
   * Graceful stop: readiness 503, stops accepting, ends trace streams, lets open requests finish,
   * drains the TD queues and scenario threads, checkpoints the TDs (a snapshot each, journal
   * compacted), closes the journal and removes the socket.
   */
  close(): Promise<void>
}

/** Time the open connections get to finish their requests before they are cut. */
const CLOSE_GRACE_MS = 10_000

function listen(server: Server, ...target: [string] | [number, string]): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    const done = (): void => {
      server.off('error', reject)
      resolve()
    }
    if (target.length === 1) server.listen(target[0], done)
    else server.listen(target[0], target[1], done)
  })
}

/** How often a closing server drops the connections that have gone idle since. */
const IDLE_SWEEP_MS = 50

/**
 * Stops accepting, lets open requests finish (connections are dropped as they go idle, and cut
 * after the grace period), resolves when closed.
 */
async function stopServer(server: Server): Promise<void> {
  if (!server.listening) return
  const stopped = new Promise<void>((resolve) => {
    server.close(() => {
      resolve()
    })
  })
  // A keep-alive connection that finishes its request (an ended trace stream, say) would else
  // hold the close until its keep-alive timeout.
  const sweep = setInterval(() => {
    server.closeIdleConnections()
  }, IDLE_SWEEP_MS)
  const cut = setTimeout(() => {
    server.closeAllConnections()
  }, CLOSE_GRACE_MS)
  try {
    await stopped
  } finally {
    clearInterval(sweep)
    clearTimeout(cut)
  }
}

/** A request id: the client's `x-request-id` when it is a plain token, else a new UUID. */
const REQUEST_ID = /^[\w.:-]{1,128}$/
const QUIET_ROUTES = new Set(['/healthz', '/readyz', '/metrics'])

/** Logs every request (id, method, matched route, path, status, ms) and echoes `x-request-id`. */
function accessLog(log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const given = c.req.header('x-request-id')
    const reqId = given !== undefined && REQUEST_ID.test(given) ? given : randomUUID()
    const start = performance.now()
    await next()
    c.res.headers.set('x-request-id', reqId)
    const route = matchedRoute(c)
    const { status } = c.res
    const level = status >= 500 ? 'error' : QUIET_ROUTES.has(route) ? 'debug' : 'info'
    log[level](
      {
        reqId,
        method: c.req.method,
        route,
        path: c.req.path,
        status,
        ms: Math.round((performance.now() - start) * 1000) / 1000,
      },
      'request'
    )
  }
}

/**
 * An HTTP server with per-listener bounds: at most `maxConnections` open (more are closed on
 * accept) and headers within `headersTimeoutMs` (a slowloris client is cut before auth could
 * even run), so a flood on one listener leaves the other usable.
 */
function serve(
  fetch: (request: Request, env: unknown) => Response | Promise<Response>,
  limits: ListenerLimits
): Server {
  const listener = getRequestListener(fetch)
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: 0,
      // How often Node checks the header deadline (its default, 30 s, would let it slip).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    (request, response) => {
      // A request that arrives on an open connection while closing is answered with
      // `Connection: close`.
      if (!server.listening) response.shouldKeepAlive = false
      void listener(request, response)
    }
  )
  server.maxConnections = limits.maxConnections
  return server
}

/** Opens the journal, replays it and listens on the unix socket (mode 0600) and, if asked, TCP. */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 })
  checkOwnPath(options.dataDir, 'data dir')
  // Before anything touches the journal or the socket: one vtld per data dir.
  const lock = lockDataDir(options.dataDir, options.socket)
  try {
    await claimSocketPath(options.socket)
    return await startOnDataDir(options, lock)
  } catch (error) {
    lock.release()
    throw error
  }
}

async function startOnDataDir(options: DaemonOptions, lock: DataDirLock): Promise<Daemon> {
  const token =
    options.listen === undefined
      ? undefined
      : await resolveToken(options.dataDir, options.tokenFile)
  const { journal, recovered } = openJournal(options.dataDir, options.recoverJournal === true)
  privateFiles(options.dataDir)
  for (const line of recovered) options.log?.warn({ dataDir: options.dataDir }, `vtld: ${line}`)
  let tds: TdService
  try {
    tds = new TdService(journal, {
      ...(options.limits?.tds ? { limits: options.limits.tds } : {}),
      ...(options.backend === undefined ? {} : { backend: options.backend }),
    })
  } catch (error) {
    journal.close()
    throw error
  }
  const metrics = new DaemonMetrics({ defaultMetrics: options.processMetrics === true })
  const unwatch = metrics.watch(tds)
  const workers = new ScenarioWorkers(options.scenarioWorkers, {
    timeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    ...options.limits?.scenarios,
  })
  let ready = false
  const ui = new UiSessions()
  const uiFiles = uiRoutes(ui, options.consoleDir ?? defaultConsoleDir())
  const app = createApp({
    tds,
    mounted: true,
    ready: () => ready,
    runScenario: workers.runScenario,
    ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
  })

  // The daemon's edge around the API app, one per listener: request log, the bearer token (TCP
  // only; refused attempts are logged too), latency metrics, request timeout, /metrics. Unmatched
  // requests get the API's not-found problem document.
  const edge = (bearer?: string): Hono => {
    const hono = new Hono({ router: new CachedRouter() })
    if (options.log !== undefined) hono.use('*', accessLog(options.log))
    if (bearer !== undefined) hono.use('*', bearerAuth(bearer))
    hono.use(
      '*',
      chain(
        uiGuard(ui),
        metrics.timing(),
        requestTimeout(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS)
      )
    )
    hono.get('/metrics', () => metrics.exposition())
    hono.route('/', uiFiles)
    hono.route('/', app)
    // The API's answer to errors, for its routes (mounted without an error handler of their own)
    // and the edge's alike: a problem document.
    hono.onError(apiErrorHandler)
    // Answered here, not by re-dispatching to the app: the app's middleware already read the
    // body (an Idempotency-Key request), so a second pass would find it unusable.
    hono.notFound(notFound(() => hono.routes))
    return hono
  }

  const servers: Server[] = [serve(edge().fetch, { ...SOCKET_LISTENER, ...options.limits?.socket })]
  let tcp: TcpListener | undefined
  try {
    await listen(servers[0] as Server, options.socket)
    await chmod(options.socket, 0o600)
    if (options.listen !== undefined && token !== undefined) {
      const server = serve(edge(token.token).fetch, { ...TCP_LISTENER, ...options.limits?.tcp })
      servers.push(server)
      await listen(server, options.listen.port, options.listen.host)
      const address = server.address() as AddressInfo
      tcp = { host: address.address, port: address.port, tokenFile: token.file }
    }
  } catch (error) {
    for (const server of servers) server.close()
    await workers.close()
    unwatch()
    journal.close()
    throw error
  }
  ready = true

  let closing: Promise<void> | undefined
  const close = async (): Promise<void> => {
    ready = false
    const stopping = Promise.all(servers.map(stopServer))
    // Open SSE streams would hold their connections (and the close) until the grace period ends.
    tds.closeStreams()
    await stopping
    await tds.drain()
    await tds.close()
    await workers.close()
    unwatch()
    tds.checkpoint()
    journal.close()
    await unlink(options.socket).catch(() => undefined)
    lock.release()
  }
  return {
    socket: options.socket,
    tcp,
    tds,
    metrics,
    close: () => (closing ??= close()),
  }
}
