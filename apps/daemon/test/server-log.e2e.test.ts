import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { fetch } from 'undici'
import { describe, expect, it } from 'vitest'
import { startDaemon } from '../src/server.js'
import { e2eFixtures } from './e2e-fixtures.js'

const { tempDir, keep, client } = e2eFixtures('vtld-log-')

describe('request log', () => {
  it('writes one structured line per request (refused TCP ones too), its id echoed in x-request-id', async () => {
    const lines: Record<string, unknown>[] = []
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>)
        done()
      },
    })
    const dir = tempDir()
    const daemon = keep(
      await startDaemon({
        socket: join(dir, 'vtld.sock'),
        dataDir: join(dir, 'data'),
        log: pino({ level: 'debug' }, sink),
        listen: { host: '127.0.0.1', port: 0 },
      })
    )
    const { agent } = client(daemon.socket)

    const mine = await fetch('http://vtld/v1/tds/td-nope', {
      dispatcher: agent,
      headers: { 'x-request-id': 'client-42' },
    })
    expect(mine.status).toBe(404)
    expect(mine.headers.get('x-request-id')).toBe('client-42')
    const health = await fetch('http://vtld/healthz', {
      dispatcher: agent,
      headers: { 'x-request-id': 'not a token!' },
    })
    const generated = health.headers.get('x-request-id')
    expect(generated).toMatch(/^[0-9a-f-]{36}$/)

    const refused = await fetch(`http://127.0.0.1:${daemon.tcp?.port ?? 0}/v1/tds`)
    expect(refused.status).toBe(401)

    expect(lines).toMatchObject([
      {
        level: 30,
        msg: 'request',
        reqId: 'client-42',
        method: 'GET',
        route: '/v1/tds/:id',
        path: '/v1/tds/td-nope',
        status: 404,
      },
      { level: 20, msg: 'request', reqId: generated, route: '/healthz', status: 200 },
      // A refused TCP attempt is logged too.
      { level: 30, msg: 'request', method: 'GET', path: '/v1/tds', status: 401 },
    ])
    expect(typeof lines[0]?.ms).toBe('number')
  })
})
