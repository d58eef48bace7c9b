import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fetch } from 'undici'
import { describe, expect, it } from 'vitest'
import { GENERATED_TOKEN_FILE } from '../src/auth.js'
import { startDaemon, type Daemon } from '../src/server.js'
import { e2eFixtures } from './e2e-fixtures.js'

const { tempDir, keep, client } = e2eFixtures('vtld-tcp-')

async function start(dir: string, tokenFile?: string): Promise<Daemon> {
  return keep(
    await startDaemon({
      socket: join(dir, 'vtld.sock'),
      dataDir: join(dir, 'data'),
      listen: { host: '127.0.0.1', port: 0 },
      scenarioWorkers: 1,
      ...(tokenFile === undefined ? {} : { tokenFile }),
    })
  )
}

function base(daemon: Daemon): string {
  if (daemon.tcp === undefined) throw new Error('no TCP listener')
  return `http://${daemon.tcp.host}:${daemon.tcp.port}`
}

describe('vtld over TCP', () => {
  it('needs the bearer token on TCP (401 without, 403 wrong, 200 right), none on the socket', async () => {
    const dir = tempDir()
    const daemon = await start(dir)
    const tokenFile = join(dir, 'data', GENERATED_TOKEN_FILE)
    expect(daemon.tcp?.tokenFile).toBe(tokenFile)
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600)
    expect(statSync(daemon.socket).mode & 0o777).toBe(0o600)
    const token = readFileSync(tokenFile, 'utf8').trim()
    const url = `${base(daemon)}/v1/tds`

    const missing = await fetch(url)
    expect(missing.status).toBe(401)
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect(await missing.json()).toMatchObject({ code: 'E_UNAUTHORIZED', status: 401 })

    const wrong = await fetch(url, { headers: { authorization: 'Bearer not-the-token' } })
    expect(wrong.status).toBe(403)
    expect(await wrong.json()).toMatchObject({ code: 'E_FORBIDDEN', status: 403 })

    // Unknown routes are guarded too (nothing about the API leaks without the token).
    expect((await fetch(`${base(daemon)}/nowhere`)).status).toBe(401)
    expect((await fetch(`${base(daemon)}/metrics`)).status).toBe(401)

    const auth = { authorization: `Bearer ${token}` }
    const created = await fetch(url, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'tcp', vps: 1, memory: '16MiB' }),
    })
    expect(created.status).toBe(201)
    const listed = await fetch(url, { headers: auth })
    expect(listed.status).toBe(200)
    expect(await listed.json()).toMatchObject({ tds: [{ name: 'tcp' }] })
    const nowhere = await fetch(`${base(daemon)}/nowhere`, { headers: auth })
    expect(nowhere.status).toBe(404)
    expect(await nowhere.json()).toMatchObject({ code: 'E_NOT_FOUND' })
    const metrics = await fetch(`${base(daemon)}/metrics`, { headers: auth })
    expect(metrics.status).toBe(200)
    expect(await metrics.text()).toMatch(
      /vtl_http_request_duration_seconds_count\{route="\/v1\/tds",method="POST",status="201"\} 1/
    )

    const overSocket = await client(daemon.socket).get('/v1/tds')
    expect(overSocket.status).toBe(200)
    expect(await overSocket.json()).toMatchObject({ tds: [{ name: 'tcp' }] })
  })

  it('uses a given token file and refuses one that group or others can read', async () => {
    const dir = tempDir()
    const tokenFile = join(dir, 'token')
    writeFileSync(tokenFile, 'my-token-0123456789-0123456789-xyz\n', { mode: 0o644 })
    await expect(start(dir, tokenFile)).rejects.toThrow(/accessible by group\/others \(mode 644\)/)

    rmSync(tokenFile)
    writeFileSync(tokenFile, 'my-token-0123456789-0123456789-xyz\n', { mode: 0o600 })
    const daemon = await start(dir, tokenFile)
    expect(daemon.tcp?.tokenFile).toBe(tokenFile)
    const ok = await fetch(`${base(daemon)}/healthz`, {
      headers: { authorization: 'Bearer my-token-0123456789-0123456789-xyz' },
    })
    expect(ok.status).toBe(200)
  })

  it('fails to start when the TCP port is taken, leaving nothing behind', async () => {
    const dir = tempDir()
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = taken.address() as AddressInfo
      const socket = join(dir, 'vtld.sock')
      const options = { socket, dataDir: join(dir, 'data') }
      await expect(
        startDaemon({ ...options, listen: { host: '127.0.0.1', port } })
      ).rejects.toMatchObject({ code: 'EADDRINUSE' })
      expect(existsSync(socket)).toBe(false)
      const daemon = keep(await startDaemon(options))
      expect(daemon.tcp).toBeUndefined()
    } finally {
      taken.close()
    }
  })

  it('has no TCP listener unless asked', async () => {
    const dir = tempDir()
    const daemon = keep(
      await startDaemon({ socket: join(dir, 's.sock'), dataDir: join(dir, 'data') })
    )
    expect(daemon.tcp).toBeUndefined()
    expect(() => statSync(join(dir, 'data', GENERATED_TOKEN_FILE))).toThrow()
  })
})
