import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import { createServer as createNetServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { NoDaemonError, type ReconnectNotice, type VtldRequest } from './client.js'
import { DaemonProblemError } from './daemon-problem.js'
import { ExitCode } from './errors.js'
import { HttpVtldClient } from './http-client.js'

// The client against stub daemons on temporary unix sockets (node:http), so each answer — and
// each way of not answering — is exactly what the test says.

const dir = mkdtempSync(join(tmpdir(), 'vtl-http-client-'))
let n = 0
const socketPath = (): string => join(dir, `s${n++}.sock`)

interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

type Handler = (req: Seen, res: ServerResponse) => void

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => {
            resolve()
          })
          ;(s as { closeAllConnections?: () => void }).closeAllConnections?.()
        })
    )
  )
})

function json(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type })
  res.end(JSON.stringify(body))
}

function problem(
  res: ServerResponse,
  status: number,
  code: string,
  detail: string,
  extra = {}
): void {
  json(
    res,
    status,
    { type: `urn:vtl:problem:${code}`, title: 't', status, code, detail, ...extra },
    'application/problem+json'
  )
}

/** A stub vtld: `routes` by `METHOD path` (path without the query), everything else 404. */
async function stub(routes: Record<string, Handler>): Promise<{ socket: string; seen: Seen[] }> {
  const socket = socketPath()
  const seen: Seen[] = []
  const server = createHttpServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => (body += c))
    req.on('end', () => {
      const entry: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
      }
      seen.push(entry)
      const handler = routes[`${entry.method} ${entry.url.split('?')[0] ?? ''}`]
      if (handler === undefined)
        problem(res, 404, 'E_NOT_FOUND', `no route ${entry.method} ${entry.url}`)
      else handler(entry, res)
    })
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(socket, resolve))
  return { socket, seen }
}

const STEP_OK = { status: 'Success', code: 0, activeVtl: 0 }

describe('HttpVtldClient: no daemon is exit 3', () => {
  it('when the socket file does not exist (ENOENT)', async () => {
    const client = new HttpVtldClient(join(dir, 'missing.sock'))
    const error = await client.request({ op: 'td.list' }).catch((e: unknown) => e)
    expect(error).toMatchObject({
      name: 'NoDaemonError',
      op: 'td.list',
      exitCode: ExitCode.NoDaemon,
    })
    expect((error as NoDaemonError).cause).toMatchObject({ code: 'ENOENT' })
  })

  it('when nothing listens there (ECONNREFUSED)', async () => {
    const path = socketPath()
    writeFileSync(path, '')
    const error = await new HttpVtldClient(path)
      .request({ op: 'vsm.status', td: 'd' })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NoDaemonError)
    expect((error as NoDaemonError).cause).toMatchObject({ code: 'ECONNREFUSED' })
  })

  it('when the connection drops before any answer (ECONNRESET)', async () => {
    const path = socketPath()
    const server = createNetServer((conn) => {
      conn.once('data', () => conn.destroy())
    })
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(path, resolve))
    await expect(new HttpVtldClient(path).request({ op: 'td.list' })).rejects.toMatchObject({
      code: 'E_NO_DAEMON',
      exitCode: ExitCode.NoDaemon,
    })
  })
})

describe('HttpVtldClient: answers', () => {
  it('sends JSON bodies with 0x hex values and answers the decoded JSON', async () => {
    const { socket, seen } = await stub({
      'POST /v1/tds/d/memory/protect': (_req, res) => {
        json(res, 200, { ...STEP_OK, processed: 2 })
      },
    })
    const answer = await new HttpVtldClient(socket).request({
      op: 'mem.protect',
      td: 'd',
      vp: 0,
      targetVtl: 0,
      start: 0x10000n,
      size: 0x2000n,
      flags: 1,
    })
    expect(answer).toEqual({ ...STEP_OK, processed: 2 })
    expect(seen[0]?.headers['content-type']).toBe('application/json')
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({
      vp: 0,
      targetVtl: 0,
      start: '0x10000',
      size: '0x2000',
      flags: 1,
    })
  })

  it('turns problem+json into a typed error with the daemon code, detail and hvStatus', async () => {
    const { socket } = await stub({
      'POST /v1/tds/d/hypercall': (_req, res) => {
        problem(res, 409, 'E_VTL_MISMATCH', 'VP 0 is active in VTL0', {
          hvStatus: 'InvalidVtlState',
        })
      },
      'POST /v1/tds': (_req, res) => {
        problem(res, 400, 'E_VALIDATION', 'vps: too big')
      },
    })
    const client = new HttpVtldClient(socket)
    const hypercall: VtldRequest = {
      op: 'hypercall',
      td: 'd',
      vp: 0,
      vtl: 1,
      code: 0x11,
      repCount: 0,
      fast: false,
      input: new Uint8Array(0),
    }
    await expect(client.request(hypercall)).rejects.toMatchObject({
      code: 'E_VTL_MISMATCH',
      detail: 'VP 0 is active in VTL0',
      hvStatus: 'InvalidVtlState',
      exitCode: ExitCode.Failed,
    })
    const create = client.request({
      op: 'td.create',
      vps: 9999,
      memory: 1n,
      gpaWidth: 48,
      mbec: true,
    })
    await expect(create).rejects.toBeInstanceOf(DaemonProblemError)
    await expect(create).rejects.toMatchObject({
      code: 'E_VALIDATION',
      exitCode: ExitCode.BadInput,
    })
  })

  it('sends a GET again when a kept-alive connection was closed under it', async () => {
    const socket = socketPath()
    const requestsOn = new WeakMap<object, number>()
    let answered = 0
    const server = createHttpServer((req, res) => {
      const n = (requestsOn.get(req.socket) ?? 0) + 1
      requestsOn.set(req.socket, n)
      // The second request on a connection finds it closed, as after the daemon's idle timeout.
      if (n > 1) {
        req.socket.destroy()
        return
      }
      answered++
      json(res, 200, { tds: [] })
    })
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(socket, resolve))
    const client = new HttpVtldClient(socket)
    expect(await client.request({ op: 'td.list' })).toEqual({ tds: [] })
    expect(await client.request({ op: 'td.list' })).toEqual({ tds: [] })
    expect(answered).toBe(2)
  })

  it('addresses a TD by name: an unknown id that names a TD is retried with its id', async () => {
    const { socket, seen } = await stub({
      'GET /v1/tds/demo': (_req, res) => {
        problem(res, 404, 'E_NO_TD', 'no TD with id demo')
      },
      'GET /v1/tds': (_req, res) => {
        json(res, 200, {
          tds: [
            { id: 'td-1', name: 'other' },
            { id: 'td-2', name: 'demo' },
          ],
        })
      },
      'GET /v1/tds/td-2/status': (_req, res) => {
        json(res, 200, { id: 'td-2', partition: {}, vps: [] })
      },
      'GET /v1/tds/demo/status': (_req, res) => {
        problem(res, 404, 'E_NO_TD', 'no TD with id demo')
      },
      'GET /v1/tds/nope': (_req, res) => {
        problem(res, 404, 'E_NO_TD', 'no TD with id nope')
      },
    })
    const client = new HttpVtldClient(socket)
    expect(await client.request({ op: 'vsm.status', td: 'demo' })).toMatchObject({ id: 'td-2' })
    expect(seen.map((s) => s.url)).toEqual([
      '/v1/tds/demo/status',
      '/v1/tds',
      '/v1/tds/td-2/status',
    ])
    // Neither an id nor a name: the daemon's own E_NO_TD.
    await expect(client.request({ op: 'td.show', td: 'nope' })).rejects.toMatchObject({
      code: 'E_NO_TD',
      exitCode: ExitCode.BadInput,
    })
  })

  it('deletes with force and says what it deleted', async () => {
    const { socket, seen } = await stub({
      'DELETE /v1/tds/d': (_req, res) => {
        res.writeHead(204).end()
      },
    })
    const answer = await new HttpVtldClient(socket).request({
      op: 'td.delete',
      td: 'd',
      force: true,
    })
    expect(answer).toEqual({ deleted: 'd' })
    expect(seen[0]?.url).toBe('/v1/tds/d?force=true')
  })

  it('mem show follows the cursor and collects every run', async () => {
    const pages: Record<string, unknown> = {
      '': { runs: [{ start: '0x0', size: '0x1000' }], next: 'p2' },
      p2: {
        runs: [
          { start: '0x1000', size: '0x1000' },
          { start: '0x2000', size: '0x2000' },
        ],
        next: 'p3',
      },
      p3: { runs: [], next: null },
    }
    const { socket, seen } = await stub({
      'GET /v1/tds/d/memory/runs': (req, res) => {
        const cursor = new URL(req.url, 'http://x').searchParams.get('cursor') ?? ''
        json(res, 200, pages[cursor])
      },
    })
    const answer = await new HttpVtldClient(socket).request({
      op: 'mem.show',
      td: 'd',
      start: 0n,
      size: 0x4000n,
    })
    expect(answer).toEqual({
      td: 'd',
      runs: [
        { start: '0x0', size: '0x1000' },
        { start: '0x1000', size: '0x1000' },
        { start: '0x2000', size: '0x2000' },
      ],
    })
    expect(seen.map((s) => new URL(s.url, 'http://x').searchParams.get('cursor'))).toEqual([
      null,
      'p2',
      'p3',
    ])
    expect(seen.every((s) => s.url.includes('start=0x0&size=0x4000'))).toBe(true)
  })

  it('td save writes the snapshot 0600 and td restore sends it back', async () => {
    const snapshot = {
      version: 1,
      options: { vps: 2, memory: '0x4000000' },
      engine: { big: '0xffffffffffffffff' },
    }
    const { socket, seen } = await stub({
      'GET /v1/tds/d/snapshot': (_req, res) => {
        json(res, 200, snapshot)
      },
      'GET /healthz': (_req, res) => {
        json(res, 200, { ok: true })
      },
      'POST /v1/tds/restore': (req, res) => {
        json(res, 201, { id: 'td-9', name: (JSON.parse(req.body) as { name: string }).name })
      },
    })
    const client = new HttpVtldClient(socket)
    const file = join(dir, 'd.snapshot.json')
    writeFileSync(file, 'old', { mode: 0o644 })
    const saved = await client.request({ op: 'td.save', td: 'd', file })
    expect(saved).toMatchObject({ td: 'd', file })
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(snapshot)
    expect(await client.request({ op: 'td.restore', file, name: 'copy' })).toEqual({
      id: 'td-9',
      name: 'copy',
    })
    expect(JSON.parse(seen.at(-1)?.body ?? '')).toEqual({ name: 'copy', snapshot })
  })

  it('td restore refuses a file that is missing, not JSON or no snapshot (exit 2) without sending it', async () => {
    const { socket, seen } = await stub({
      'GET /healthz': (_req, res) => {
        json(res, 200, { ok: true })
      },
    })
    const client = new HttpVtldClient(socket)
    const bad = join(dir, 'bad.json')
    writeFileSync(bad, '{not json')
    const other = join(dir, 'other.json')
    writeFileSync(other, '{"version": 2}')
    for (const file of [bad, join(dir, 'absent.json'), other]) {
      await expect(client.request({ op: 'td.restore', file })).rejects.toMatchObject({
        code: 'E_BAD_INPUT',
        exitCode: ExitCode.BadInput,
      })
    }
    expect(seen.every((s) => s.url === '/healthz')).toBe(true)
  })

  it('trace -o writes the Chrome trace and counts its events', async () => {
    const doc = {
      traceEvents: [
        { name: 'a', ph: 'X' },
        { name: 'b', ph: 'i' },
      ],
    }
    const { socket } = await stub({
      'GET /v1/tds/d/trace': (_req, res) => {
        json(res, 200, doc)
      },
    })
    const out = join(dir, 'trace.json')
    const answer = await new HttpVtldClient(socket).request({
      op: 'trace',
      td: 'd',
      limit: 10,
      out,
    })
    expect(answer).toEqual({ td: 'd', file: out, events: 2 })
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(doc)
  })
})

describe('HttpVtldClient: trace events (SSE)', () => {
  it('yields trace events and resumes a dropped stream with Last-Event-ID', async () => {
    let connection = 0
    const { socket, seen } = await stub({
      'GET /v1/tds/d/trace/events': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        if (connection++ === 0) {
          res.write(': hello\n\n')
          res.write('event: trace\nid: 1\ndata: {"seq":1}\n\n')
          res.end('event: trace\nid: 2\ndata: {"seq":2}\n\n')
        } else {
          res.write('event: trace\nid: 3\ndata: {"seq":3}\n\n')
        }
      },
    })
    const stop = new AbortController()
    const events: unknown[] = []
    for await (const event of new HttpVtldClient(socket).traceEvents('d', stop.signal)) {
      events.push(event)
      if (events.length === 3) stop.abort()
    }
    expect(events).toEqual([{ seq: 1 }, { seq: 2 }, { seq: 3 }])
    expect(seen.map((s) => s.headers['last-event-id'])).toEqual([undefined, '2'])
    // From now (the default) at first; a resume goes on after the last event instead.
    expect(seen.map((s) => s.url)).toEqual([
      '/v1/tds/d/trace/events?from=now',
      '/v1/tds/d/trace/events',
    ])
    expect(seen[0]?.headers.accept).toBe('text/event-stream')
  })

  it.each([
    ['start', 'start' as const, '/v1/tds/d/trace/events', undefined],
    ['after a seq', { after: 4 }, '/v1/tds/d/trace/events', '4'],
  ])('starts from %s when asked', async (_name, from, url, lastEventId) => {
    const { socket, seen } = await stub({
      'GET /v1/tds/d/trace/events': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        res.write('event: trace\nid: 5\ndata: {"seq":5}\n\n')
      },
    })
    const stop = new AbortController()
    const events: unknown[] = []
    for await (const event of new HttpVtldClient(socket).traceEvents('d', stop.signal, { from })) {
      events.push(event)
      stop.abort()
    }
    expect(events).toEqual([{ seq: 5 }])
    expect(seen.map((s) => [s.url, s.headers['last-event-id']])).toEqual([[url, lastEventId]])
  })

  it('says why and after which event it reconnects (a dropped reader, an ended stream)', async () => {
    let connection = 0
    const { socket } = await stub({
      'GET /v1/tds/d/trace/events': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        const n = connection++
        if (n === 0) {
          res.write('event: trace\nid: 1\ndata: {"seq":1}\n\n')
          res.end('event: dropped\ndata: {"reason":"the reader fell behind","lastSeq":1}\n\n')
        } else if (n === 1) res.end()
        else res.write('event: trace\nid: 2\ndata: {"seq":2}\n\n')
      },
    })
    const stop = new AbortController()
    const notices: ReconnectNotice[] = []
    const stream = new HttpVtldClient(socket).traceEvents('d', stop.signal, {
      onReconnect: (n) => notices.push(n),
    })
    const events: unknown[] = []
    for await (const event of stream) {
      events.push(event)
      if (events.length === 2) stop.abort()
    }
    expect(events).toEqual([{ seq: 1 }, { seq: 2 }])
    expect(notices).toEqual([
      { reason: 'vtld dropped the stream: the reader fell behind', attempt: 1, of: 10, after: '1' },
      // A stream that ends without events is a failure too: the count goes on.
      { reason: 'vtld ended the stream', attempt: 2, of: 10, after: '1' },
    ])
  })

  it('waits out a daemon that answers 503 while it restarts', async () => {
    let connection = 0
    const { socket, seen } = await stub({
      'GET /v1/tds/d/trace/events': (_req, res) => {
        const n = connection++
        if (n === 1) {
          problem(res, 503, 'E_SHUTTING_DOWN', 'vtld is closing')
          return
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        const seq = n === 0 ? 1 : 2
        res[n === 0 ? 'end' : 'write'](`event: trace\nid: ${seq}\ndata: {"seq":${seq}}\n\n`)
      },
    })
    const stop = new AbortController()
    const events: unknown[] = []
    for await (const event of new HttpVtldClient(socket).traceEvents('d', stop.signal)) {
      events.push(event)
      if (events.length === 2) stop.abort()
    }
    expect(events).toEqual([{ seq: 1 }, { seq: 2 }])
    expect(seen.map((s) => s.headers['last-event-id'])).toEqual([undefined, '1', '1'])
  })

  it('reports an unknown TD instead of retrying', async () => {
    const { socket } = await stub({
      'GET /v1/tds': (_req, res) => {
        json(res, 200, { tds: [] })
      },
      'GET /v1/tds/x/trace/events': (_req, res) => {
        problem(res, 404, 'E_NO_TD', 'no TD with id x')
      },
    })
    const stream = new HttpVtldClient(socket).traceEvents('x', new AbortController().signal)
    await expect(
      (async () => {
        for await (const _ of stream) return
      })()
    ).rejects.toMatchObject({ code: 'E_NO_TD', exitCode: ExitCode.BadInput })
  })

  it('without a daemon, fails at once with exit 3', async () => {
    const stream = new HttpVtldClient(join(dir, 'none.sock')).traceEvents(
      'd',
      new AbortController().signal
    )
    await expect(
      (async () => {
        for await (const _ of stream) return
      })()
    ).rejects.toBeInstanceOf(NoDaemonError)
  })
})

describe('HttpVtldClient: a TCP daemon', () => {
  async function tcpStub(): Promise<{ url: URL; seen: Seen[] }> {
    const seen: Seen[] = []
    const server = createHttpServer((req, res) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '' })
      if (req.headers.authorization === undefined) {
        problem(res, 401, 'E_UNAUTHORIZED', 'this listener needs Authorization: Bearer <token>')
      } else if (req.headers.authorization !== 'Bearer s3cret') {
        problem(res, 403, 'E_FORBIDDEN', 'wrong token')
      } else json(res, 200, { tds: [] })
    })
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('no TCP address')
    return { url: new URL(`http://127.0.0.1:${address.port}`), seen }
  }

  it.each([
    ['s3cret', 'Bearer s3cret', undefined],
    ['guess', 'Bearer guess', 'E_FORBIDDEN'],
    [undefined, undefined, 'E_UNAUTHORIZED'],
  ])('token %j: sends %j and ends with %j', async (token, header, code) => {
    const { url, seen } = await tcpStub()
    const client = new HttpVtldClient('/unused.sock', { url, token })
    expect(client.endpoint).toBe(url.origin)
    const answer = client.request({ op: 'td.list' })
    if (code === undefined) expect(await answer).toEqual({ tds: [] })
    else await expect(answer).rejects.toMatchObject({ code, exitCode: ExitCode.Failed })
    expect(seen[0]?.headers.authorization).toBe(header)
    expect(seen[0]?.headers.host).toBe(url.host)
  })

  it('nobody listening on the port is exit 3, naming the URL', async () => {
    const { url } = await tcpStub()
    await new Promise<void>((resolve) =>
      servers.pop()?.close(() => {
        resolve()
      })
    )
    await expect(
      new HttpVtldClient('/unused.sock', { url, token: 't' }).request({ op: 'td.list' })
    ).rejects.toMatchObject({
      code: 'E_NO_DAEMON',
      socket: url.origin,
      exitCode: ExitCode.NoDaemon,
    })
  })
})
