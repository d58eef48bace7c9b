import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Journal } from '../src/journal.js'
import { startDaemon } from '../src/server.js'
import { ENABLE_PARTITION_VTL, e2eFixtures } from './e2e-fixtures.js'

// The test closes its daemon itself (that is what it checks), so it is not `keep`-ed.
const { tempDir, client } = e2eFixtures('vtld-close-')

describe('graceful close', () => {
  it('ends open trace streams cleanly, checkpoints every TD and removes the socket', async () => {
    const dir = tempDir()
    const dataDir = join(dir, 'data')
    const daemon = await startDaemon({ socket: join(dir, 'vtld.sock'), dataDir })
    const { post, get } = client(daemon.socket)
    const td = (await (await post('/v1/tds', { vps: 2, memory: '16MiB' })).json()) as { id: string }
    expect((await post(`/v1/tds/${td.id}/hypercall`, ENABLE_PARTITION_VTL)).status).toBe(200)

    const stream = await get(`/v1/tds/${td.id}/trace/events`)
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
