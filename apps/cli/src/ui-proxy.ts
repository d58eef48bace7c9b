import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { NoDaemonError } from './client.js'
import { CliError, ExitCode } from './errors.js'

// What `vtl ui` runs: a listener on 127.0.0.1 that forwards every request, streams included, to
// vtld (its socket, or its TCP listener with the bearer token). It marks each request with the
// console's origin (`x-vtl-ui-origin`), which makes vtld apply the console's rules (session
// cookie, Host, Origin); a browser cannot set or remove that mark, it is always this proxy's.

/** The header vtld reads (apps/daemon/src/routes/ui.ts). */
const UI_ORIGIN_HEADER = 'x-vtl-ui-origin'

/** Where the proxy forwards to. */
export type UiUpstream =
  { socketPath: string } | { host: string; port: number; authorization: string | undefined }

/** Hop-by-hop headers, and the two only the proxy may set. */
const DROPPED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'authorization',
  UI_ORIGIN_HEADER,
])

function forwardHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) if (!DROPPED.has(name)) out[name] = value
  return out
}

function describe(upstream: UiUpstream): string {
  return 'socketPath' in upstream ? upstream.socketPath : `${upstream.host}:${upstream.port}`
}

/** One request to vtld (not through the proxy): status and parsed JSON body. */
export function upstreamJson(
  upstream: UiUpstream,
  method: string,
  path: string
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({
      ...('socketPath' in upstream
        ? { socketPath: upstream.socketPath, headers: { host: 'vtld' } }
        : {
            host: upstream.host,
            port: upstream.port,
            headers:
              upstream.authorization === undefined ? {} : { authorization: upstream.authorization },
          }),
      method,
      path,
    })
    request.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT' || error.code === 'ECONNREFUSED'
          ? new NoDaemonError(describe(upstream), undefined, error)
          : error
      )
    })
    request.once('response', (response) => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => (text += chunk))
      response.once('end', () => {
        try {
          resolve({
            status: response.statusCode ?? 0,
            body: text === '' ? undefined : JSON.parse(text),
          })
        } catch (error) {
          reject(
            new CliError('E_BAD_ANSWER', 'vtld answered malformed JSON', ExitCode.Failed, {
              cause: error,
            })
          )
        }
      })
      response.once('error', reject)
    })
    request.end()
  })
}

/** A one-time console link from vtld: the path (with its token) to open on the console. */
export async function mintUiLink(upstream: UiUpstream): Promise<string> {
  const { status, body } = await upstreamJson(upstream, 'POST', '/v1/ui/sessions')
  const path = (body as { path?: unknown } | undefined)?.path
  if (status !== 201 || typeof path !== 'string') {
    const detail = (body as { detail?: unknown } | undefined)?.detail
    throw new CliError(
      'E_UI_LINK',
      `vtld refused a console link (${status}${typeof detail === 'string' ? `: ${detail}` : ''})`,
      ExitCode.Failed
    )
  }
  return path
}

export interface UiProxy {
  /** `http://127.0.0.1:PORT`. */
  readonly origin: string
  close(): Promise<void>
}

/** Listens on 127.0.0.1:`port` (0: any free port) and forwards everything to `upstream`. */
export async function startUiProxy(upstream: UiUpstream, port: number): Promise<UiProxy> {
  let origin = ''
  const server = createServer((incoming, outgoing) => {
    const headers = forwardHeaders(incoming.headers)
    headers[UI_ORIGIN_HEADER] = origin
    if ('authorization' in upstream && upstream.authorization !== undefined) {
      headers.authorization = upstream.authorization
    }
    const forwarded = httpRequest(
      {
        ...('socketPath' in upstream
          ? { socketPath: upstream.socketPath }
          : { host: upstream.host, port: upstream.port }),
        method: incoming.method ?? 'GET',
        path: incoming.url ?? '/',
        headers,
      },
      (answer) => {
        const back: IncomingHttpHeaders = {}
        for (const [name, value] of Object.entries(answer.headers)) {
          if (!DROPPED.has(name)) back[name] = value
        }
        outgoing.writeHead(answer.statusCode ?? 502, back)
        // Server-sent events must reach the browser as they come, not when a buffer fills.
        outgoing.flushHeaders()
        answer.pipe(outgoing)
      }
    )
    forwarded.once('error', () => {
      if (outgoing.headersSent) {
        outgoing.destroy()
        return
      }
      outgoing.writeHead(502, { 'content-type': 'application/problem+json' })
      outgoing.end(
        JSON.stringify({
          type: 'about:blank',
          title: 'Bad Gateway',
          status: 502,
          code: 'E_NO_DAEMON',
          detail: `vtld does not answer at ${describe(upstream)}`,
        })
      )
    })
    // The browser went away (a closed trace stream): stop the daemon's side too.
    outgoing.once('close', () => {
      if (!outgoing.writableFinished) forwarded.destroy()
    })
    incoming.pipe(forwarded)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve()
        })
        server.closeAllConnections()
      }),
  }
}
