import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HvMapGpaFlags } from '@vtl/core'
import { startDaemon } from '@vtl/daemon'
import { afterAll, describe, expect, it } from 'vitest'
import { GPA_SVG_COLORS, permissionColor } from '@vtl/memory-map'
import { BIN, ROOT, vtlAsync, type VtlResult } from './vtl.js'

// The built `vtl` against a real vtld (startDaemon from @vtl/daemon, in this process, on a
// temporary socket): the commands a user types, their exit codes and their output.

const tmp = mkdtempSync(join(tmpdir(), 'vtl-e2e-'))
const socket = join(tmp, 'vtld.sock')
const daemon = await startDaemon({ socket, dataDir: join(tmp, 'data'), scenarioWorkers: 1 })
afterAll(() => daemon.close())

const vtl = (...args: string[]) => vtlAsync(['--socket', socket, ...args])

async function json(...args: string[]): Promise<Record<string, unknown>> {
  const r = await vtl(...args, '--json')
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  return JSON.parse(r.stdout) as Record<string, unknown>
}

describe('vtl against vtld', () => {
  it('creates, lists, shows and deletes a TD by name, with tables and JSON', async () => {
    const created = await json('td', 'create', '--name', 'basic', '--vps', '2', '--memory', '16MiB')
    expect(created).toMatchObject({ name: 'basic', vps: 2, memory: '0x1000000', gpaWidth: 48 })
    const list = await vtl('td', 'list')
    expect(list.code).toBe(0)
    expect(list.stdout).toMatch(/│ basic\s+│ 2\s+│ 16MiB\s+│/)
    const shown = await json('td', 'show', 'basic')
    expect(shown.id).toBe(created.id)
    const status = await vtl('vsm', 'status', '--td', 'basic')
    expect(status.code).toBe(0)
    expect(status.stdout).toContain('guest VSM NotGuestEnabled')
    const deleted = await vtl('td', 'delete', 'basic')
    expect(deleted).toMatchObject({ code: 0, stdout: `deleted ${String(created.id)}\n` })
    expect((await json('td', 'list')).tds).toEqual([])
  })

  it('maps the daemon problems and guest failures to exit codes', async () => {
    const unknown = await vtl('td', 'show', 'no-such-td')
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toBe('vtl: no TD with id no-such-td [E_NO_TD]\n')
    await json('td', 'create', '--name', 'dup', '--vps', '1', '--memory', '4MiB')
    const dup = await vtl('td', 'create', '--name', 'dup', '--vps', '1', '--memory', '4MiB')
    expect(dup.code).toBe(1)
    expect(dup.stderr).toMatch(/\[E_TD_EXISTS\]\n$/)
    const badVp = await vtl('hypercall', '0x000d', '--td', 'dup', '--vp', '7')
    expect(badVp.code).toBe(2)
    expect(badVp.stderr).toMatch(/\[E_BAD_VP\]\n$/)
    // EnablePartitionVtl twice: the second is a guest-visible InvalidVtlState (exit 1, printed).
    const input = 'ffffffffffffffff 01 00 0000 00000000'
    const first = await vtl('hypercall', '0x000d', input, '--td', 'dup')
    expect(first).toMatchObject({ code: 0, stdout: 'Success (VP in VTL0)\n' })
    const again = await vtl('hypercall', '0x000d', input, '--td', 'dup', '--json')
    expect(again.code).toBe(1)
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'InvalidVtlState' })
    expect((await vtl('td', 'delete', 'dup')).code).toBe(0)
  })

  it('enables VTL1, protects a page, saves and restores the TD', async () => {
    await json('td', 'create', '--name', 'demo', '--vps', '2', '--memory', '64MiB')
    expect(await json('vsm', 'enable-partition', '--td', 'demo', '--mbec')).toMatchObject({
      status: 'Success',
    })
    expect(
      await json('vsm', 'enable-vp', '--td', 'demo', '--target-vp', '0', '--rip', '0x100000')
    ).toMatchObject({ status: 'Success' })
    const status = (await json('vsm', 'status', '--td', 'demo')) as {
      partition: { guestVsmState: string }
      vps: { vp: number; vtl1Enabled: boolean }[]
    }
    expect(status.partition.guestVsmState).toBe('Enabled')
    expect(status.vps.find((v) => v.vp === 0)?.vtl1Enabled).toBe(true)
    const table = await vtl('vsm', 'status', '--td', 'demo')
    expect(table.stdout).toMatch(/│ 0\s+│ 0\s+│ yes\s+│/)

    // VTL1 changes VTL0's permissions: VP0 enters VTL1 (HvCallVtlCall), enables VTL
    // protection in HvRegisterVsmPartitionConfig, then protects a page.
    expect(await json('hypercall', '0x0011', '--td', 'demo', '--vtl', '0')).toMatchObject({
      activeVtl: 1,
    })
    expect(await json('vsm', 'config', '--td', 'demo', '--set', '0x1f')).toMatchObject({
      status: 'Success',
    })
    expect(await json('vsm', 'config', '--td', 'demo')).toMatchObject({ vtl: 1, value: '0x1f' })
    const protect = await json(
      'mem',
      'protect',
      '--td',
      'demo',
      '--gpa',
      '0x10000',
      '--size',
      '4KiB',
      '--flags',
      'R'
    )
    expect(protect).toMatchObject({ status: 'Success' })
    const runs = (await json('mem', 'show', '--td', 'demo')) as {
      runs: { start: string; size: string; vtl0: string }[]
    }
    // One schema with `mem show --scenario`: the source, the range shown, vtld's runs.
    expect(Object.keys(runs)).toEqual(['td', 'start', 'end', 'runs'])
    expect(runs).toMatchObject({ start: '0x0', end: '0x4000000' })
    expect((runs as unknown as { td: string }).td).toMatch(/^td-/)
    expect(runs.runs).toContainEqual(
      expect.objectContaining({ start: '0x10000', size: '0x1000', vtl0: 'r---' })
    )
    const shown = await vtl('mem', 'show', '--td', 'demo', '--gpa', '0x10000', '--size', '4KiB')
    expect(shown.code).toBe(0)
    expect(shown.stdout).toMatch(
      /│ 0x10000 +│ 0x11000 +│ 4KiB +│ ram +│ private +│ r--- +│ rwxu +│/
    )
    // The same runs drawn: the protected page is its own column, R for VTL0 in lane 1.
    const svgFile = join(tmp, 'demo.svg')
    const drawn = await vtl('mem', 'show', '--td', 'demo', '--size', '1MiB', '--svg', svgFile)
    expect(drawn.code).toBe(0)
    expect(drawn.stdout).toContain(`SVG written to ${svgFile}`)
    const svg = readFileSync(svgFile, 'utf8')
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
    expect(svg).toContain('GPA space (vtld), 3 run(s)')
    const lane = (n: number): string => `data-lane="${n}" data-start="0x10000" data-end="0x11000"`
    const pageRect = (n: number): RegExp =>
      new RegExp(`${lane(n)}[^>]*fill="([^"]+)"[^>]*><title>([^<]*)</title>`)
    expect(svg.match(pageRect(0))?.slice(1)).toEqual([
      GPA_SVG_COLORS.private,
      '0x10000–0x11000 (4KiB): private (accepted)',
    ])
    expect(svg.match(pageRect(1))?.slice(1)).toEqual([
      permissionColor(HvMapGpaFlags.Readable),
      '0x10000–0x11000 (4KiB): VTL0 R',
    ])
    expect(svg.match(pageRect(2))?.slice(1)).toEqual([
      permissionColor(0xf),
      '0x10000–0x11000 (4KiB): VTL1 R W KX UX',
    ])
    expect(svg).toContain(`data-lane="1" data-start="0x0" data-end="0x10000"`)
    expect(svg).toContain(`data-start="0x11000" data-end="0x100000"`)
    expect(await json('mem', 'show', '--td', 'demo', '--svg', svgFile)).toMatchObject({
      svg: svgFile,
    })

    const file = join(tmp, 'demo.snapshot.json')
    expect(await vtl('td', 'save', 'demo', '-o', file)).toMatchObject({ code: 0 })
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ version: 1 })
    const restored = await json('td', 'restore', file, '--name', 'demo2')
    expect(restored).toMatchObject({ name: 'demo2', vps: 2 })
    const again = (await json('mem', 'show', '--td', 'demo2', '--gpa', '0x10000')) as {
      runs: { vtl0: string }[]
    }
    expect(again.runs[0]?.vtl0).toBe('r---')

    for (const td of ['demo', 'demo2']) {
      expect(await vtl('td', 'delete', td, '--force')).toMatchObject({ code: 0 })
    }
    expect((await vtl('td', 'show', 'demo')).code).toBe(2)
  })

  it('completes TD names from the daemon the command line names (bash)', async () => {
    await json('td', 'create', '--name', 'completed', '--vps', '1', '--memory', '4MiB')
    const names = await vtl('td', 'list', '--names')
    expect(names.stdout.split('\n')).toContain('completed')
    // `vtl` on PATH, as an installed completion script calls it.
    const bin = join(tmp, 'bin')
    mkdirSync(bin, { recursive: true })
    writeFileSync(join(bin, 'vtl'), `#!/bin/sh\nexec ${process.execPath} ${BIN} "$@"\n`, {
      mode: 0o755,
    })
    const script = join(tmp, 'vtl.bash')
    writeFileSync(script, (await vtl('completion', 'bash')).stdout)
    // Not spawnSync: the daemon answers from this process.
    const complete = (...typed: string[]): Promise<string> => {
      const words = ['vtl', ...typed].map((w) => `'${w}'`).join(' ')
      // As bash sets them: the words, and the line up to the cursor.
      const line = ['vtl', ...typed].join(' ')
      const child = spawn(
        'bash',
        [
          '-c',
          `source ${script}; COMP_WORDS=(${words}); COMP_CWORD=${typed.length}; COMP_LINE='${line}'; COMP_POINT=\${#COMP_LINE}; _vtl; echo "\${COMPREPLY[@]}"`,
        ],
        { env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` } }
      )
      let out = ''
      child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c))
      child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c))
      return new Promise((resolve) =>
        child.once('close', () => {
          resolve(out.trim())
        })
      )
    }
    expect(await complete('--socket', socket, 'td', 'show', 'compl')).toBe('completed')
    expect(await complete('--socket', socket, 'vsm', 'status', '--td', 'compl')).toBe('completed')
    // Another socket, no daemon: nothing to offer, and no error on the terminal.
    expect(await complete('--socket', join(tmp, 'none.sock'), 'td', 'show', '')).toBe('')
    expect((await vtl('td', 'delete', 'completed')).code).toBe(0)
  })

  it("writes a TD's trace for Perfetto", async () => {
    await json('td', 'create', '--name', 'traced', '--vps', '1', '--memory', '4MiB')
    await vtl('hypercall', '0x000d', 'ffffffffffffffff 01 00 0000 00000000', '--td', 'traced')
    const out = join(tmp, 'traced.trace.json')
    const r = await vtl('trace', '--td', 'traced', '-o', out)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^wrote .*traced\.trace\.json \(\d+ events\)\n$/)
    const doc = JSON.parse(readFileSync(out, 'utf8')) as { traceEvents: { name: string }[] }
    expect(doc.traceEvents.length).toBeGreaterThan(0)
    expect((await vtl('td', 'delete', 'traced')).code).toBe(0)
  })

  it("follows a TD's trace events until Ctrl-C: from now, from the start, from a seq", async () => {
    await json('td', 'create', '--name', 'live', '--vps', '1', '--memory', '4MiB')
    const hypercall = (): Promise<VtlResult> =>
      vtl('hypercall', '0x000d', 'ffffffffffffffff 01 00 0000 00000000', '--td', 'live')
    await hypercall()
    /** The first event `vtl trace --follow …` prints (hypercalls until it prints one), then Ctrl-C. */
    const firstEvent = async (...from: string[]): Promise<{ seq: number; kind: string }> => {
      const child = spawn(
        process.execPath,
        [BIN, '--socket', socket, 'trace', '--td', 'live', '--follow', '--json', ...from],
        { cwd: ROOT, env: { ...process.env, NO_COLOR: undefined } }
      )
      let stdout = ''
      let stderr = ''
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
      const printed = new Promise<void>((resolve) => {
        child.stdout.setEncoding('utf8').on('data', (c: string) => {
          stdout += c
          if (stdout.includes('\n')) resolve()
        })
      })
      const exited = new Promise<number | null>((resolve) => child.once('close', resolve))
      let sent = 0
      while (!stdout.includes('\n') && sent < 50) {
        await Promise.race([printed, new Promise((r) => setTimeout(r, 200))])
        if (stdout.includes('\n')) break
        await hypercall()
        sent++
      }
      child.kill('SIGINT')
      expect(await exited).toBe(0)
      expect(stderr).toBe('')
      return JSON.parse(stdout.split('\n')[0] ?? '') as { seq: number; kind: string }
    }
    // The TD has events already: following from now does not print them again.
    const now = await firstEvent()
    expect(now.seq).toBeGreaterThan(0)
    expect(now.kind).toEqual(expect.any(String))
    expect((await firstEvent('--from', 'start')).seq).toBe(0)
    expect((await firstEvent('--from', `#${now.seq}`)).seq).toBe(now.seq)
    const refused = await vtl('trace', '--td', 'live', '--from', 'yesterday', '--follow')
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('--from')
    expect((await vtl('trace', '--td', 'live', '--from', 'start')).code).toBe(2)
    expect((await vtl('td', 'delete', 'live', '--force')).code).toBe(0)
  })
})

describe('vtl daemon start | status | stop', () => {
  it('starts vtld in the background, reports it, refuses a second one and stops it', async () => {
    const own = join(tmp, 'own.sock')
    const dataDir = join(tmp, 'own-data')
    const run = (...args: string[]) => vtlAsync(['--socket', own, 'daemon', ...args])

    const none = await run('status')
    expect(none.code).toBe(3)
    expect(none.stderr).toBe(
      `vtl: no vtld daemon is reachable at ${own} (start vtld, or pass --socket PATH)\n`
    )

    const started = await run('start', '--data-dir', dataDir, '--json')
    expect(started.stderr).toBe('')
    expect(started.code).toBe(0)
    const info = JSON.parse(started.stdout) as { pid: number; socket: string; log: string }
    expect(info).toMatchObject({ socket: own, dataDir, log: join(dataDir, 'vtld.log') })
    expect(statSync(own).isSocket()).toBe(true)
    expect(readFileSync(`${own}.pid`, 'utf8')).toBe(`${info.pid}\n`)

    const status = await run('status', '--json')
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout)).toEqual({
      socket: own,
      healthy: true,
      ready: true,
      pid: info.pid,
      tds: 0,
    })
    const human = await run('status')
    expect(human.stdout).toBe(`vtld on ${own}: healthy, ready; pid ${info.pid}; 0 TD(s)\n`)

    const twice = await run('start', '--data-dir', dataDir)
    expect(twice.code).toBe(1)
    expect(twice.stderr).toContain(`a vtld already answers on ${own}`)

    // The started daemon serves the stateful commands.
    const td = await vtlAsync(['--socket', own, 'td', 'create', '--vps', '1', '--memory', '4MiB'])
    expect(td.code).toBe(0)

    const stopped = await run('stop')
    expect(stopped).toMatchObject({
      code: 0,
      stdout: `vtld (pid ${info.pid}) stopped; ${own} removed\n`,
    })
    expect(() => statSync(own)).toThrow()
    expect(() => statSync(`${own}.pid`)).toThrow()
    expect((await run('stop')).code).toBe(3)
    // The log is JSON lines only (no start-up text, no plain-text errors).
    const records = readFileSync(info.log, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { name: string; msg: string })
    expect(records.every((r) => r.name === 'vtld')).toBe(true)
    expect(records.map((r) => r.msg)).toEqual(
      expect.arrayContaining(['vtld listening', 'vtld stopped'])
    )
  })

  it('says what a vtld killed with -9 left (socket, pid file); start replaces it, stop removes it', async () => {
    const own = join(tmp, 'crash.sock')
    const dataDir = join(tmp, 'crash-data')
    const run = (...args: string[]) => vtlAsync(['--socket', own, 'daemon', ...args])
    const killed = async (): Promise<number> => {
      const pid = Number(readFileSync(`${own}.pid`, 'utf8'))
      process.kill(pid, 'SIGKILL')
      while (existsSync(`/proc/${pid}`)) await new Promise((r) => setTimeout(r, 50))
      return pid
    }
    expect((await run('start', '--data-dir', dataDir)).code).toBe(0)
    const first = await killed()
    const left = `the socket ${own} and the pid file ${own}.pid left by vtld pid ${first} (not running)`

    const status = await run('status')
    expect(status.code).toBe(3)
    expect(status.stderr).toContain(`vtl: ${left}: vtl --socket ${own} daemon start replaces them`)

    const started = await run('start', '--data-dir', dataDir, '--json')
    expect(started.code).toBe(0)
    expect(started.stderr).toBe(`vtl: removing ${left}\n`)
    const second = await killed()

    const stopped = await run('stop')
    expect(stopped.code).toBe(3)
    expect(stopped.stderr).toContain(
      `vtl: removed the socket ${own} and the pid file ${own}.pid left by vtld pid ${second} (not running)\n`
    )
    expect(existsSync(own)).toBe(false)
    expect(existsSync(`${own}.pid`)).toBe(false)
  })

  it('will not stop a vtld it did not start', async () => {
    const again = await vtlAsync(['--socket', socket, 'daemon', 'stop'])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('was not started by vtl daemon start')
    expect((await vtlAsync(['--socket', socket, 'daemon', 'status'])).stdout).toContain(
      'pid unknown'
    )
  })
})

describe('vtl --url: vtld on TCP', () => {
  it('sends the bearer token; a missing or wrong one is exit 1 with the daemon code', async () => {
    const tcpDaemon = await startDaemon({
      socket: join(tmp, 'tcp.sock'),
      dataDir: join(tmp, 'tcp-data'),
      listen: { host: '127.0.0.1', port: 0 },
      scenarioWorkers: 1,
    })
    try {
      const { tcp } = tcpDaemon
      if (tcp === undefined) throw new Error('vtld did not listen on TCP')
      const url = `http://127.0.0.1:${tcp.port}`
      const token = readFileSync(tcp.tokenFile, 'utf8').trim()
      const ok = await vtlAsync(['--url', url, 'td', 'list', '--json'], { VTLD_TOKEN: token })
      expect(ok).toMatchObject({ code: 0, stderr: '' })
      expect(JSON.parse(ok.stdout)).toEqual({ tds: [] })
      const missing = await vtlAsync(['--url', url, 'td', 'list'], { VTLD_TOKEN: undefined })
      expect(missing.code).toBe(1)
      expect(missing.stderr).toMatch(/\[E_UNAUTHORIZED\]\n$/)
      const wrong = await vtlAsync(['--url', url, '--token', 'nope', 'td', 'list'])
      expect(wrong.code).toBe(1)
      expect(wrong.stderr).toMatch(/\[E_FORBIDDEN\]\n$/)
    } finally {
      await tcpDaemon.close()
    }
  })
})
