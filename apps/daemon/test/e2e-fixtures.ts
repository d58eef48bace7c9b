import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, fetch } from 'undici'
import { afterEach } from 'vitest'
import type { Daemon } from '../src/server.js'

// What the end-to-end tests share: temporary directories, daemons and clients on a socket, each
// released after the test that made it.

/** VP0's EnablePartitionVtl for VTL1 on its own partition, as a raw hypercall body. */
export const ENABLE_PARTITION_VTL = {
  vp: 0,
  code: '0x000d',
  input: 'ffffffffffffffff 01 00 0000 00000000',
}

export function e2eFixtures(prefix: string) {
  const dirs: string[] = []
  const daemons: Daemon[] = []
  const agents: Agent[] = []

  afterEach(async () => {
    for (const agent of agents.splice(0)) await agent.close()
    for (const daemon of daemons.splice(0)) await daemon.close()
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })

  return {
    /** A fresh directory under the system's temp dir. */
    tempDir: (): string => {
      const dir = mkdtempSync(join(tmpdir(), prefix))
      dirs.push(dir)
      return dir
    },
    /** Closes `daemon` after the test. */
    keep: (daemon: Daemon): Daemon => {
      daemons.push(daemon)
      return daemon
    },
    /** A keep-alive client on a unix socket: JSON POSTs and plain GETs. */
    client: (socket: string) => {
      const agent = new Agent({ connect: { socketPath: socket } })
      agents.push(agent)
      const post = (path: string, body: unknown) =>
        fetch(`http://vtld${path}`, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      const get = (path: string) => fetch(`http://vtld${path}`, { dispatcher: agent })
      return { agent, post, get }
    },
  }
}
