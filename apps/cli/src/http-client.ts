import { readFile, writeFile } from 'node:fs/promises'
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  NoDaemonError,
  type ClientFactory,
  type TcpEndpoint,
  type TraceFollow,
  type VtldClient,
  type VtldOp,
  type VtldAnswer,
  type VtldAnswers,
  type VtldRequest,
} from './client.js'
import type { ChromeTrace, Runs } from './vtld-api.js'
import { DaemonProblemError, problemFromAnswer } from './daemon-problem.js'
import { CliError, ExitCode, badInput } from './errors.js'
import { routeOf, traceEventsRoute, type Route, type RouteInput } from './routes.js'
import { isStdout, writeOutputFile } from './output-file.js'
import { SseParser } from './sse.js'
import { wireJson } from './wire.js'

// `VtldClient` over HTTP/JSON on vtld's unix socket, or on its TCP listener with a bearer token
// (api-contract.md), with node:http and one keep-alive agent. A daemon that is not there (no
// socket file, nobody listening, the connection dropped before any answer) is `NoDaemonError`
// (exit 3); a problem+json answer is `DaemonProblemError` with the daemon's code.

/** Connection errors that mean no daemon answered at all. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
])

/** Reconnect attempts of a dropped trace stream before giving up, and the pause between them. */
const STREAM_RETRIES = 10
const STREAM_RETRY_MS = 500

type TdRequest = Extract<VtldRequest, { td: string }>

interface ExchangeOptions {
  op?: VtldOp
  headers?: Record<string, string>
  signal?: AbortSignal
}

async function readBody(response: IncomingMessage): Promise<unknown> {
  response.setEncoding('utf8')
  let text = ''
  for await (const chunk of response) text += chunk as string
  if (text === '') return undefined
  if (!/json/.test(response.headers['content-type'] ?? '')) return text
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    throw new CliError('E_BAD_ANSWER', 'vtld answered malformed JSON', ExitCode.Failed, {
      cause: error,
    })
  }
}

export class HttpVtldClient implements VtldClient {
  readonly endpoint: string
  private readonly agent = new Agent({ keepAlive: true })
  /** Where requests go: the socket, or the TCP host and port with the Authorization header. */
  private readonly target:
    { socketPath: string } | { host: string; port: number; authorization: string | undefined }

  constructor(socket: string, tcp?: TcpEndpoint) {
    if (tcp === undefined) {
      this.endpoint = socket
      this.target = { socketPath: socket }
    } else {
      this.endpoint = tcp.url.origin
      this.target = {
        // URL keeps an IPv6 host in brackets; node:http wants it without.
        host: tcp.url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: tcp.url.port === '' ? 80 : Number(tcp.url.port),
        authorization: tcp.token === undefined ? undefined : `Bearer ${tcp.token}`,
      }
    }
  }

  /** Sends a route; resolves when the answer's head arrives. */
  private open(
    route: Route,
    options: ExchangeOptions = {},
    retried = false
  ): Promise<IncomingMessage> {
    const body = route.body === undefined ? undefined : wireJson(route.body)
    return new Promise((resolve, reject) => {
      const target = this.target
      const request = httpRequest({
        ...('socketPath' in target
          ? { socketPath: target.socketPath }
          : { host: target.host, port: target.port }),
        agent: this.agent,
        method: route.method,
        path: route.path,
        headers: {
          ...('socketPath' in target ? { host: 'vtld' } : {}),
          ...('authorization' in target && target.authorization !== undefined
            ? { authorization: target.authorization }
            : {}),
          accept: 'application/json, application/problem+json',
          ...(body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
          ...options.headers,
        },
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      })
      request.once('response', resolve)
      request.once('error', (error: NodeJS.ErrnoException) => {
        // A kept-alive connection the daemon closed while idle: a GET goes again on a new one.
        if (
          request.reusedSocket &&
          error.code === 'ECONNRESET' &&
          route.method === 'GET' &&
          !retried
        ) {
          resolve(this.open(route, options, true))
          return
        }
        reject(
          error.code !== undefined && UNREACHABLE.has(error.code)
            ? new NoDaemonError(this.endpoint, options.op, error)
            : error
        )
      })
      request.end(body)
    })
  }

  /** One exchange: the decoded answer of a 2xx, a `DaemonProblemError` otherwise. */
  private async exchange(route: Route, options: ExchangeOptions = {}): Promise<unknown> {
    const response = await this.open(route, options)
    const body = await readBody(response)
    const status = response.statusCode ?? 0
    if (status < 200 || status > 299) throw problemFromAnswer(status, body)
    return body
  }

  /**
   * One GET outside the `VtldRequest` ops (health, readiness): its status and decoded body, any
   * status. No daemon: `NoDaemonError`.
   */
  async get(path: string): Promise<{ status: number; body: unknown }> {
    const response = await this.open({ method: 'GET', path })
    return { status: response.statusCode ?? 0, body: await readBody(response) }
  }

  /** The id of the TD named `name`, if there is one. */
  private async idOfName(name: string): Promise<string | undefined> {
    const answer = (await this.exchange(routeOf({ op: 'td.list' }), {
      op: 'td.list',
    })) as VtldAnswers['td.list']
    return answer.tds.find((t) => t.name === name)?.id
  }

  /**
   * Runs `perform` for a TD given by id or name: the daemon addresses TDs by id, so an unknown id
   * that is a TD's name is retried with that TD's id (a 404 applied nothing).
   */
  private async forTd<T>(
    request: TdRequest,
    perform: (request: TdRequest) => Promise<T>
  ): Promise<T> {
    try {
      return await perform(request)
    } catch (error) {
      if (!(error instanceof DaemonProblemError) || error.code !== 'E_NO_TD') throw error
      const id = await this.idOfName(request.td)
      if (id === undefined || id === request.td) throw error
      return await perform({ ...request, td: id })
    }
  }

  async request<R extends VtldRequest>(request: R): Promise<VtldAnswer<R>> {
    // The daemon's answers are trusted to match its own OpenAPI document (vtld-api.ts).
    return (await this.dispatch(request)) as VtldAnswer<R>
  }

  private async dispatch(request: VtldRequest): Promise<unknown> {
    const send = (r: VtldRequest, input?: RouteInput): Promise<unknown> =>
      this.exchange(routeOf(r, input), { op: r.op })
    switch (request.op) {
      case 'td.create':
      case 'td.list':
        return await send(request)
      case 'td.restore':
        // No daemon is exit 3 before the file is read, as for every other stateful command.
        await this.exchange({ method: 'GET', path: '/healthz' }, { op: request.op })
        return await send(request, { snapshot: await readSnapshot(request.file) })
      default:
        return await this.forTd(request, (r) => this.perform(r, send))
    }
  }

  /** A request on one TD (already addressed by the id the daemon knows, after a retry). */
  private async perform(
    r: TdRequest,
    send: (r: VtldRequest, input?: RouteInput) => Promise<unknown>
  ): Promise<unknown> {
    switch (r.op) {
      case 'td.delete':
        await send(r)
        return { deleted: r.td }
      case 'td.save': {
        const text = `${JSON.stringify(await send(r))}\n`
        const bytes = Buffer.byteLength(text)
        // `-o -`: the command prints it.
        if (isStdout(r.file)) return { td: r.td, file: r.file, bytes, text }
        // A snapshot is the whole guest state: owner-only, also when the file existed before.
        await writeOutputFile(r.file, text, process.stdout, 0o600)
        return { td: r.td, file: r.file, bytes }
      }
      case 'mem.show': {
        const runs: VtldAnswers['mem.show']['runs'] = []
        let cursor: string | undefined
        do {
          const page = (await send(r, cursor === undefined ? {} : { cursor })) as Runs
          runs.push(...page.runs)
          cursor = page.next ?? undefined
        } while (cursor !== undefined)
        return { td: r.td, runs }
      }
      case 'trace': {
        const doc = await send(r)
        if (r.out === undefined) return doc
        await writeFile(r.out, `${JSON.stringify(doc)}\n`)
        const { traceEvents } = doc as ChromeTrace
        return { td: r.td, file: r.out, events: traceEvents.length }
      }
      default:
        return await send(r)
    }
  }

  async *traceEvents(
    td: string,
    signal: AbortSignal,
    follow: TraceFollow = {}
  ): AsyncIterable<unknown> {
    const from = follow.from ?? 'now'
    let id = td
    let lastId = typeof from === 'object' ? String(from.after) : undefined
    let connected = false
    let failures = 0
    /** After a drop: tell why, wait, and say whether to try again. */
    const retry = async (reason: string): Promise<boolean> => {
      if (++failures > STREAM_RETRIES) return false
      follow.onReconnect?.({ reason, attempt: failures, of: STREAM_RETRIES, after: lastId })
      await sleep(STREAM_RETRY_MS, undefined, { signal }).catch(() => undefined)
      return true
    }
    while (!signal.aborted) {
      let response: IncomingMessage
      try {
        // Resuming goes on after the last event; before any, the stream starts as asked.
        response = await this.open(traceEventsRoute(id, lastId === undefined && from === 'now'), {
          op: 'trace',
          signal,
          headers: {
            accept: 'text/event-stream',
            ...(lastId === undefined ? {} : { 'last-event-id': lastId }),
          },
        })
      } catch (error) {
        if (isAborted(signal)) return
        // The first connection reports its failure; a dropped stream is resumed a few times.
        if (!connected) throw error
        const reason = error instanceof Error ? error.message : String(error)
        if (await retry(reason)) continue
        throw error
      }
      const status = response.statusCode ?? 0
      if (status !== 200) {
        const problem = problemFromAnswer(status, await readBody(response))
        // A daemon restarting answers 503 while it drains: resume once it is back.
        if (connected && status === 503 && (await retry(problem.message))) continue
        if (!connected && problem.code === 'E_NO_TD') {
          const byName = await this.idOfName(td)
          if (byName !== undefined && byName !== id) {
            id = byName
            continue
          }
        }
        throw problem
      }
      connected = true
      response.setEncoding('utf8')
      const parser = new SseParser()
      let ended = 'vtld ended the stream'
      try {
        for await (const chunk of response) {
          for (const event of parser.push(chunk as string)) {
            if (event.id !== undefined) lastId = event.id
            if (event.event === 'trace') {
              // Only a stream that gives events counts as resumed: one that keeps ending does not.
              failures = 0
              yield JSON.parse(event.data) as unknown
            } else if (event.event === 'dropped') ended = droppedReason(event.data)
          }
        }
      } catch (error) {
        if (isAborted(signal)) return
        if (!(error instanceof Error) || !('code' in error)) throw error
        ended = `the connection broke (${String(error.code)})`
      }
      if (isAborted(signal)) return
      if (!(await retry(ended))) {
        throw new CliError(
          'E_STREAM',
          `trace stream of ${td}: ${ended}; gave up after ${STREAM_RETRIES} attempts`,
          ExitCode.Failed
        )
      }
    }
  }
}

/** The reason in vtld's final `event: dropped` (`{reason, lastSeq}`), or the data as sent. */
function droppedReason(data: string): string {
  try {
    const doc = JSON.parse(data) as { reason?: unknown }
    if (typeof doc.reason === 'string') return `vtld dropped the stream: ${doc.reason}`
  } catch {
    // Not JSON: say what it was.
  }
  return `vtld dropped the stream: ${data}`
}

/** Read through a call: TypeScript keeps `signal.aborted` narrowed to false inside the loop. */
const isAborted = (signal: AbortSignal): boolean => signal.aborted

/** The snapshot document in a file written by `vtl td save`. */
async function readSnapshot(file: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw badInput(`${file}: cannot read`, error)
  }
  let doc: unknown
  try {
    doc = JSON.parse(text) as unknown
  } catch (error) {
    throw badInput(`${file}: not a TD snapshot (not JSON)`, error)
  }
  // The daemon checks every field; a document that is no snapshot at all is said so here.
  const { version, options } = (typeof doc === 'object' && doc !== null ? doc : {}) as {
    version?: unknown
    options?: unknown
  }
  if (version !== 1 || typeof options !== 'object' || options === null) {
    const got = version === undefined ? 'no version' : `version ${JSON.stringify(version)}`
    throw badInput(
      `${file}: not a TD snapshot written by vtl td save (${got}; a snapshot has version 1 and options)`
    )
  }
  return doc
}

export const defaultClientFactory: ClientFactory = (socket, tcp) => new HttpVtldClient(socket, tcp)
