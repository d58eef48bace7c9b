import { createServer, type Server } from 'node:http'
import { chmod, mkdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { getRequestListener } from '@hono/node-server'
import { createApp } from './app.js'
import { Journal } from './journal.js'
import { claimSocketPath } from './socket-path.js'
import { TdService } from './td-service.js'

export interface DaemonOptions {
  /** The unix socket to listen on. */
  socket: string
  /** Where the SQLite journal lives (created 0700 when missing). */
  dataDir: string
  /** Largest request body in bytes. */
  bodyLimit?: number
}

/** A running daemon. */
export interface Daemon {
  readonly socket: string
  readonly tds: TdService
  /** Stops accepting, drains the TD queues, closes the journal and removes the socket. */
  close(): Promise<void>
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

/** Opens the journal, replays it and listens on the unix socket (mode 0600). */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  await claimSocketPath(options.socket)
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 })
  const journal = new Journal(join(options.dataDir, 'vtld.sqlite'))
  let tds: TdService
  try {
    tds = new TdService(journal)
  } catch (error) {
    journal.close()
    throw error
  }
  let ready = false
  const app = createApp({
    tds,
    ready: () => ready,
    ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
  })
  const listener = getRequestListener(app.fetch)
  const server = createServer((request, response) => {
    void listener(request, response)
  })
  try {
    await listen(server, options.socket)
    await chmod(options.socket, 0o600)
  } catch (error) {
    server.close()
    journal.close()
    throw error
  }
  ready = true

  let closing: Promise<void> | undefined
  const close = async (): Promise<void> => {
    ready = false
    const stopped = new Promise<void>((resolve) => {
      server.close(() => {
        resolve()
      })
    })
    server.closeIdleConnections()
    await stopped
    await tds.drain()
    journal.close()
    await unlink(options.socket).catch(() => undefined)
  }
  return {
    socket: options.socket,
    tds,
    close: () => (closing ??= close()),
  }
}
