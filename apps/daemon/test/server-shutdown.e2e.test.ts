import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { socketAnswers } from '../src/socket-path.js'
import { ENABLE_PARTITION_VTL, e2eFixtures } from './e2e-fixtures.js'

// vtld as a process (src/main.ts through tsx, as bin/vtld.mjs runs dist/main.js): signals,
// exit codes, the start-up text.

const PKG = fileURLToPath(new URL('..', import.meta.url))
const NODE_ARGS = ['--conditions=@vtl/source', '--import', 'tsx', 'src/main.ts']
const { tempDir, client } = e2eFixtures('vtld-proc-')
const children: ChildProcess[] = []

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

/** Starts vtld and resolves once its socket answers, with what it printed on stdout by then. */
async function startVtld(args: string[], socket: string) {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd: PKG })
  children.push(child)
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
  // The start-up text is written right after the socket listens; poll until both are there.
  while (!(await socketAnswers(socket)) || (!args.includes('--quiet') && !out.includes('try:'))) {
    if (child.exitCode !== null) throw new Error(`vtld exited (${child.exitCode}): ${err}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { child, stdout: () => out, stderr: () => err }
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      resolve(code)
    })
  })
}

describe('vtld process', () => {
  it('SIGTERM: exit 0, socket removed, an acknowledged mutation survives the restart', async () => {
    const dir = tempDir()
    const socket = join(dir, 'vtld.sock')
    const args = ['--socket', socket, '--data-dir', join(dir, 'data')]
    const { child, stdout, stderr } = await startVtld(args, socket)
    expect(stdout()).toContain(`vtld listening on ${socket}`)
    expect(stdout()).toContain(
      `vtl --socket ${socket} td create --name demo --vps 2 --memory 64MiB`
    )
    expect(stdout()).toContain(`vtl --socket ${socket} vsm enable-partition --td demo`)
    expect(stdout()).toContain(`vtl --socket ${socket} vsm status --td demo`)

    const first = client(socket)
    const created = await first.post('/v1/tds', { name: 'kept', vps: 2, memory: '16MiB' })
    expect(created.status).toBe(201)
    const td = (await created.json()) as { id: string }
    const enabled = await first.post(`/v1/tds/${td.id}/hypercall`, ENABLE_PARTITION_VTL)
    expect(await enabled.json()).toMatchObject({ status: 'Success' })

    child.kill('SIGTERM')
    expect(await exited(child)).toBe(0)
    expect(existsSync(socket)).toBe(false)
    // stderr is the log: JSON lines only, from listening to stopped.
    const log = stderr()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string })
    expect(log.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['vtld listening', 'vtld shutting down', 'vtld stopped'])
    )

    const restarted = await startVtld([...args, '--quiet'], socket)
    expect(restarted.stdout()).toBe('')
    const second = client(socket)
    const shown = await second.get(`/v1/tds/${td.id}`)
    expect(await shown.json()).toMatchObject({ id: td.id, name: 'kept' })
    // The partition is still enabled: a second EnablePartitionVtl is refused by the guest ABI.
    const again = await second.post(`/v1/tds/${td.id}/hypercall`, ENABLE_PARTITION_VTL)
    expect(await again.json()).toMatchObject({ status: 'InvalidVtlState' })

    restarted.child.kill('SIGINT')
    expect(await exited(restarted.child)).toBe(0)
    expect(existsSync(socket)).toBe(false)
  })

  it('one vtld per data dir: a second exits 2 naming the holder; kill -9 frees it', async () => {
    const dir = tempDir()
    const data = join(dir, 'data')
    const socket = join(dir, 'a.sock')
    const first = await startVtld(['--socket', socket, '--data-dir', data, '--quiet'], socket)
    const created = await client(socket).post('/v1/tds', { name: 'one', vps: 1, memory: '1MiB' })
    expect(created.status).toBe(201)
    const td = (await created.json()) as { id: string }
    const enabled = await client(socket).post(`/v1/tds/${td.id}/hypercall`, ENABLE_PARTITION_VTL)
    expect(await enabled.json()).toMatchObject({ status: 'Success' })

    const other = join(dir, 'b.sock')
    const second = spawnSync(
      process.execPath,
      [...NODE_ARGS, '--socket', other, '--data-dir', data, '--quiet'],
      { cwd: PKG, encoding: 'utf8' }
    )
    expect(second.status).toBe(2)
    const refusal = JSON.parse(second.stderr.trim()) as { level: number; msg: string }
    expect(refusal.level).toBe(60)
    expect(refusal.msg).toContain(`data dir ${data} is in use by vtld pid ${first.child.pid}`)
    expect(refusal.msg).toContain(`socket ${socket}`)
    expect(existsSync(other)).toBe(false)

    first.child.kill('SIGKILL')
    await exited(first.child)
    const next = await startVtld(['--socket', other, '--data-dir', data, '--quiet'], other)
    const again = await client(other).post(`/v1/tds/${td.id}/hypercall`, ENABLE_PARTITION_VTL)
    expect(await again.json()).toMatchObject({ status: 'InvalidVtlState' })
    next.child.kill('SIGTERM')
    expect(await exited(next.child)).toBe(0)
  })

  it.each([
    { args: ['--listen', 'nope'], stderr: /--listen expects HOST:PORT/ },
    { args: ['--listen', '127.0.0.1:70000'], stderr: /--listen expects HOST:PORT/ },
    { args: ['--request-timeout', '0'], stderr: /--request-timeout expects seconds > 0/ },
    { args: ['--backend', 'kvm'], stderr: /--backend expects sim or hw/ },
    { args: ['--token-file', '/x'], stderr: /--token-file needs --listen/ },
    { args: ['--bogus'], stderr: /Unknown option '--bogus'/ },
  ])('exits 2 on bad arguments: $args', ({ args, stderr }) => {
    const run = spawnSync(process.execPath, [...NODE_ARGS, ...args], { cwd: PKG, encoding: 'utf8' })
    expect(run.status).toBe(2)
    expect(run.stderr).toMatch(stderr)
    expect(run.stderr).toContain('usage: vtld')
  })

  it('--backend hw refuses on this host (no TDX) with exit 2, one line per reason', () => {
    const dir = tempDir()
    const socket = join(dir, 'vtld.sock')
    const run = spawnSync(
      process.execPath,
      [...NODE_ARGS, '--backend', 'hw', '--socket', socket, '--data-dir', join(dir, 'data')],
      { cwd: PKG, encoding: 'utf8' }
    )
    expect(run.status).toBe(2)
    // The log's JSON lines: one fatal record per reason.
    const lines = run.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: number; msg: string; reason: string })
    expect(lines.length).toBeGreaterThan(0)
    for (const line of lines) {
      expect(line).toMatchObject({ level: 60, name: 'vtld' })
      expect(line.msg).toMatch(/^backend refused: \S/)
      expect(line.msg).toBe(`backend refused: ${line.reason}`)
    }
    expect(run.stderr).toMatch(/TDX guest: /)
    expect(existsSync(socket)).toBe(false)
  })
})
