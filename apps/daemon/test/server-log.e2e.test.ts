import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { Agent, fetch } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { startDaemon, type Daemon } from '../src/server.js'

const dirs: string[] = []
const daemons: Daemon[] = []
const agents: Agent[] = []

afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.close()
  for (const daemon of daemons.splice(0)) await daemon.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('request log', () => {
  it('writes one structured line per request (refused TCP ones too), its id echoed in x-request-id', async () => {
    const lines: Record<string, unknown>[] = []
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>)
        done()
      },
    })
    const dir = mkdtempSync(join(tmpdir(), 'vtld-log-'))
    dirs.push(dir)
    const daemon = await startDaemon({
      socket: join(dir, 'vtld.sock'),
      dataDir: join(dir, 'data'),
      log: pino({ level: 'debug' }, sink),
      listen: { host: '127.0.0.1', port: 0 },
    })
    daemons.push(daemon)
    const agent = new Agent({ connect: { socketPath: daemon.socket } })
    agents.push(agent)

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
