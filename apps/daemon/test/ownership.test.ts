import { chmodSync, chownSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readTokenFile } from '../src/auth.js'
import { OwnershipError } from '../src/ownership.js'
import { startDaemon } from '../src/server.js'
import { claimSocketPath, defaultSocketPath } from '../src/socket-path.js'
import { e2eFixtures } from './e2e-fixtures.js'

// Issue 15, finding 10: without XDG_RUNTIME_DIR the socket was /tmp/vtld-<uid>.sock, a name
// another user could take first; a data dir and token planted by another user were used.
// Another user's files need root to make: those cases run as root only.

const { tempDir, keep } = e2eFixtures('vtld-owner-')
const root = process.getuid?.() === 0
const NOBODY = 65534

describe('ownership checks', () => {
  it('the default socket lives in a directory of its own', () => {
    expect(defaultSocketPath({}, 1000)).toBe('/tmp/vtld-1000/vtld.sock')
    expect(defaultSocketPath({ XDG_RUNTIME_DIR: '/run/user/1000/' }, 1000)).toBe(
      '/run/user/1000/vtld.sock'
    )
  })

  it('creates a missing socket directory 0700', async () => {
    const dir = join(tempDir(), 'run')
    await claimSocketPath(join(dir, 'vtld.sock'))
    expect(statSync(dir).mode & 0o777).toBe(0o700)
  })

  it('refuses a socket directory others may write to', async () => {
    const dir = tempDir()
    chmodSync(dir, 0o777)
    await expect(claimSocketPath(join(dir, 'vtld.sock'))).rejects.toThrow(
      /socket directory .* is writable by group or others \(mode 777\)/
    )
  })

  it('refuses a data dir others may write to, and makes every data file 0600', async () => {
    const dir = tempDir()
    const data = join(dir, 'data')
    mkdirSync(data, { mode: 0o700 })
    chmodSync(data, 0o777)
    await expect(startDaemon({ socket: join(dir, 'vtld.sock'), dataDir: data })).rejects.toThrow(
      OwnershipError
    )
    chmodSync(data, 0o700)
    writeFileSync(join(data, 'vtld.sqlite'), '', { mode: 0o644 })
    keep(
      await startDaemon({
        socket: join(dir, 'vtld.sock'),
        dataDir: data,
        listen: { host: '127.0.0.1', port: 0 },
        scenarioWorkers: 1,
      })
    )
    const files = readdirSync(data)
    expect(files).toEqual(expect.arrayContaining(['vtld.sqlite', 'vtld.token', 'vtld.lock']))
    for (const file of files) expect(statSync(join(data, file)).mode & 0o777, file).toBe(0o600)
  })

  it.runIf(root)(
    'refuses another user’s socket directory, socket, data dir and token',
    async () => {
      const theirs = tempDir()
      chownSync(theirs, NOBODY, NOBODY)
      await expect(claimSocketPath(join(theirs, 'vtld.sock'))).rejects.toThrow(
        /owned by uid 65534, not by this user/
      )
      await expect(
        startDaemon({ socket: join(tempDir(), 'vtld.sock'), dataDir: theirs })
      ).rejects.toThrow(/data dir .* owned by uid 65534/)

      // Their live socket in our directory: named as theirs, not as "a live vtld".
      const mine = tempDir()
      const socket = join(mine, 'vtld.sock')
      const server = createServer()
      await new Promise<void>((resolve) => server.listen(socket, resolve))
      chownSync(socket, NOBODY, NOBODY)
      await expect(claimSocketPath(socket)).rejects.toThrow(/belongs to uid 65534/)
      await new Promise((resolve) => server.close(resolve))

      const token = join(mine, 'token')
      writeFileSync(token, 'y'.repeat(40), { mode: 0o600 })
      chownSync(token, NOBODY, NOBODY)
      await expect(readTokenFile(token)).rejects.toThrow(/owned by uid 65534/)
    }
  )
})
