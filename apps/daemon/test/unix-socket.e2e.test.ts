import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, fetch } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { startDaemon, type Daemon } from '../src/server.js'

const dirs: string[] = []
const daemons: Daemon[] = []
const agents: Agent[] = []

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vtld-e2e-'))
  dirs.push(dir)
  return dir
}

afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.close()
  for (const daemon of daemons.splice(0)) await daemon.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('vtld over a unix socket', () => {
  it('serves the API on a 0600 socket, refuses a second daemon and replays after a restart', async () => {
    const dir = tempDir()
    const socket = join(dir, 'vtld.sock')
    const dataDir = join(dir, 'data')
    const daemon = await startDaemon({ socket, dataDir })
    daemons.push(daemon)
    expect(statSync(socket).mode & 0o777).toBe(0o600)

    const agent = new Agent({ connect: { socketPath: socket } })
    agents.push(agent)
    const created = await fetch('http://vtld/v1/tds', {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'e2e', vps: 2, memory: '32MiB' }),
    })
    expect(created.status).toBe(201)
    const td = (await created.json()) as { id: string }
    const ready = await fetch('http://vtld/readyz', { dispatcher: agent })
    expect(await ready.json()).toEqual({ ready: true })

    await expect(startDaemon({ socket, dataDir: join(dir, 'other') })).rejects.toThrow(/live vtld/)

    await daemon.close()
    expect(existsSync(socket)).toBe(false)

    const restarted = await startDaemon({ socket, dataDir })
    daemons.push(restarted)
    const agent2 = new Agent({ connect: { socketPath: socket } })
    agents.push(agent2)
    const shown = await fetch(`http://vtld/v1/tds/${td.id}`, { dispatcher: agent2 })
    expect(shown.status).toBe(200)
    expect(await shown.json()).toMatchObject({ id: td.id, name: 'e2e', vps: 2 })
  })

  it('serves /metrics fed by the TDs’ trace events and the requests', async () => {
    const dir = tempDir()
    const daemon = await startDaemon({ socket: join(dir, 'vtld.sock'), dataDir: join(dir, 'data') })
    daemons.push(daemon)
    const agent = new Agent({ connect: { socketPath: daemon.socket } })
    agents.push(agent)
    const post = (path: string, body: unknown) =>
      fetch(`http://vtld${path}`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const td = (await (await post('/v1/tds', { vps: 1, memory: '16MiB' })).json()) as { id: string }
    const call = { vp: 0, code: '0x000d', input: 'ffffffffffffffff 01 00 0000 00000000' }
    await post(`/v1/tds/${td.id}/hypercall`, call)
    await post(`/v1/tds/${td.id}/hypercall`, call)

    const metrics = await fetch('http://vtld/metrics', { dispatcher: agent })
    expect(metrics.status).toBe(200)
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/)
    const lines = (await metrics.text()).split('\n')
    // Two guest hypercalls: the first succeeded and was forwarded to the host, the second refused.
    expect(lines).toContain('vtl_guest_steps_total{action="hypercall"} 2')
    expect(lines).toContain(
      'vtl_hypercalls_total{code="0x000d",name="EnablePartitionVtl",status="Success"} 1'
    )
    expect(lines).toContain(
      'vtl_hypercalls_total{code="0x000d",name="EnablePartitionVtl",status="InvalidVtlState"} 1'
    )
    expect(lines).toContain(
      'vtl_hypervisor_calls_total{name="EnablePartitionVtl",status="Success"} 1'
    )
    expect(lines).toContain('vtl_hypercall_cycles_count 2')
    expect(lines).toContain(
      'vtl_http_request_duration_seconds_count{route="/v1/tds/:id/hypercall",method="POST",status="200"} 2'
    )
    expect(lines.some((line) => line.startsWith('vtl_tdcalls_total{leaf="'))).toBe(true)
  })

  it('replaces a stale socket file left by a killed daemon', async () => {
    const dir = tempDir()
    const socket = join(dir, 'stale.sock')
    // A process that listens and dies with SIGKILL leaves its socket file behind.
    spawnSync(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ])
    expect(statSync(socket).isSocket()).toBe(true)
    const daemon = await startDaemon({ socket, dataDir: join(dir, 'data') })
    daemons.push(daemon)
    const agent = new Agent({ connect: { socketPath: socket } })
    agents.push(agent)
    expect((await fetch('http://vtld/healthz', { dispatcher: agent })).status).toBe(200)
  })
})
