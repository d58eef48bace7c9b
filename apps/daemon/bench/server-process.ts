import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import { getRequestListener } from '@hono/node-server'
import { Hono } from 'hono'
import { startDaemon } from '../src/server.js'

// A bench server in a process of its own, as users run vtld: the load generator (the bench
// process, which forks this file with its own node flags) shares neither its event loop nor its
// heap. `vtld <dir>` starts the daemon on `<dir>`; `bare <dir> <json>` a bare hono server answering
// `<json>` at GET /status. Either tells the parent its socket when listening, collects garbage
// when asked (as the bench runner does in its own process before each sample) and stops on
// `close`.

/** What the parent sends. */
export type ServerRequest = 'gc' | 'close'
/** What this process answers: its socket once listening, then `gc` after each collection. */
export type ServerReply = { socket: string } | 'gc'

const send = (reply: ServerReply): void => {
  process.send?.(reply)
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, resolve)
  })
}

async function bare(
  dir: string,
  status: unknown
): Promise<{ socket: string; close(): Promise<void> }> {
  const app = new Hono()
  app.get('/status', (c) => c.json(status as object))
  const listener = getRequestListener(app.fetch)
  const server = createServer((request, response) => {
    void listener(request, response)
  })
  const socket = join(dir, 'bare.sock')
  await listen(server, socket)
  return {
    socket,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          resolve()
        })
      }),
  }
}

const [role, dir, status] = process.argv.slice(2)
if (dir === undefined || (role !== 'vtld' && role !== 'bare')) {
  throw new Error('usage: server-process.ts vtld <dir> | bare <dir> <status json>')
}
const server =
  role === 'vtld'
    ? await startDaemon({ socket: join(dir, 'vtld.sock'), dataDir: join(dir, 'data') })
    : await bare(dir, JSON.parse(status ?? 'null'))
process.on('message', (request: ServerRequest) => {
  if (request === 'gc') {
    ;(globalThis as { gc?: () => void }).gc?.()
    send('gc')
  } else {
    void server.close().then(() => {
      process.disconnect()
    })
  }
})
// Closed, or the bench process is gone: nothing is left to serve.
process.once('disconnect', () => {
  process.exit()
})
send({ socket: server.socket })
