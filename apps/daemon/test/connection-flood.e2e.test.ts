import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startDaemon } from '../src/server.js'
import { e2eFixtures } from './e2e-fixtures.js'

// Issue 15, finding 5: connections that never finish their headers on TCP exhausted the
// daemon's file descriptors and locked out everyone, socket users included. Loopback only, and
// bounded counts: the cap here is 16 and the flood 64 connections.

const { tempDir, keep, client } = e2eFixtures('vtld-flood-')

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      // Headers that never end.
      socket.write('GET /v1/tds HTTP/1.1\r\nHost: vtld\r\nX-Slow: ')
      socket.resume()
      resolve(socket)
    })
    socket.on('error', () => undefined)
    socket.once('error', reject)
  })
}

const closed = (socket: Socket): Promise<void> =>
  socket.destroyed || socket.readableEnded
    ? Promise.resolve()
    : new Promise((resolve) =>
        socket.once('close', () => {
          resolve()
        })
      )

describe('a header flood on TCP', () => {
  it('is capped and cut at the header deadline; the socket answers throughout', async () => {
    const dir = tempDir()
    const daemon = keep(
      await startDaemon({
        socket: join(dir, 'vtld.sock'),
        dataDir: join(dir, 'data'),
        listen: { host: '127.0.0.1', port: 0 },
        scenarioWorkers: 1,
        limits: { tcp: { maxConnections: 16, headersTimeoutMs: 1500 } },
      })
    )
    const port = daemon.tcp?.port ?? 0
    const flood = await Promise.all(Array.from({ length: 64 }, () => open(port)))
    const local = client(daemon.socket)
    for (let i = 0; i < 5; i++) {
      const health = await local.get('/healthz')
      expect(health.status).toBe(200)
      expect(await health.json()).toEqual({ ok: true })
    }
    const created = await local.post('/v1/tds', { vps: 1, memory: '1MiB' })
    expect(created.status).toBe(201)
    // Every flood connection ends: those over the cap at once, the rest at the header deadline.
    await Promise.all(flood.map(closed))
    expect(flood.every((s) => s.destroyed || s.readableEnded)).toBe(true)
  })
})
