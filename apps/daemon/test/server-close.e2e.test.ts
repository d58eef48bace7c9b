import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, fetch } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { Journal } from '../src/journal.js'
import { startDaemon } from '../src/server.js'

const dirs: string[] = []
const agents: Agent[] = []

afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const ENABLE_PARTITION_VTL = {
  vp: 0,
  code: '0x000d',
  input: 'ffffffffffffffff 01 00 0000 00000000',
}

describe('graceful close', () => {
  it('ends open trace streams cleanly, checkpoints every TD and removes the socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtld-close-'))
    dirs.push(dir)
    const dataDir = join(dir, 'data')
    const daemon = await startDaemon({ socket: join(dir, 'vtld.sock'), dataDir })
    const agent = new Agent({ connect: { socketPath: daemon.socket } })
    agents.push(agent)
    const post = (path: string, body: unknown) =>
      fetch(`http://vtld${path}`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const td = (await (await post('/v1/tds', { vps: 2, memory: '16MiB' })).json()) as { id: string }
    expect((await post(`/v1/tds/${td.id}/hypercall`, ENABLE_PARTITION_VTL)).status).toBe(200)

    const stream = await fetch(`http://vtld/v1/tds/${td.id}/trace/events`, { dispatcher: agent })
    expect(stream.status).toBe(200)
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const reader = stream.body?.getReader()
    if (reader === undefined) throw new Error('no stream body')
    const first = await reader.read()
    expect(new TextDecoder().decode(first.value as Uint8Array)).toContain('event: trace')

    const closed = daemon.close()
    expect(daemon.close()).toBe(closed)
    // The stream ends as a finished response (not a cut connection, which would reject).
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read());
    await closed
    expect(existsSync(daemon.socket)).toBe(false)

    const journal = new Journal(join(dataDir, 'vtld.sqlite'))
    try {
      expect(journal.snapshots().map((s) => s.meta.td)).toEqual([td.id])
    } finally {
      journal.close()
    }
  })
})
