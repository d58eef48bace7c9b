import { spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startDaemon } from '../src/server.js'
import { ENABLE_PARTITION_VTL, e2eFixtures } from './e2e-fixtures.js'

const { tempDir, keep, client } = e2eFixtures('vtld-e2e-')

describe('vtld over a unix socket', () => {
  it('serves the API on a 0600 socket, refuses a second daemon and replays after a restart', async () => {
    const dir = tempDir()
    const socket = join(dir, 'vtld.sock')
    const dataDir = join(dir, 'data')
    const daemon = keep(await startDaemon({ socket, dataDir }))
    expect(statSync(socket).mode & 0o777).toBe(0o600)

    const first = client(socket)
    const created = await first.post('/v1/tds', { name: 'e2e', vps: 2, memory: '32MiB' })
    expect(created.status).toBe(201)
    const td = (await created.json()) as { id: string }
    const ready = await first.get('/readyz')
    expect(await ready.json()).toEqual({ ready: true })

    await expect(startDaemon({ socket, dataDir: join(dir, 'other') })).rejects.toThrow(/live vtld/)

    await daemon.close()
    expect(existsSync(socket)).toBe(false)

    keep(await startDaemon({ socket, dataDir }))
    const shown = await client(socket).get(`/v1/tds/${td.id}`)
    expect(shown.status).toBe(200)
    expect(await shown.json()).toMatchObject({ id: td.id, name: 'e2e', vps: 2 })
  })

  it('serves /metrics fed by the TDs’ trace events and the requests', async () => {
    const dir = tempDir()
    const daemon = keep(
      await startDaemon({ socket: join(dir, 'vtld.sock'), dataDir: join(dir, 'data') })
    )
    const { post, get } = client(daemon.socket)
    const td = (await (await post('/v1/tds', { vps: 1, memory: '16MiB' })).json()) as { id: string }
    await post(`/v1/tds/${td.id}/hypercall`, ENABLE_PARTITION_VTL)
    await post(`/v1/tds/${td.id}/hypercall`, ENABLE_PARTITION_VTL)

    const metrics = await get('/metrics')
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
    keep(await startDaemon({ socket, dataDir: join(dir, 'data') }))
    expect((await client(socket).get('/healthz')).status).toBe(200)
  })
})
