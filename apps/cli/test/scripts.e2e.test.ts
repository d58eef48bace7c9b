import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDaemon } from '@vtl/daemon'
import { describe, expect, it } from 'vitest'
import { ROOT, vtlAsync } from './vtl.js'

// What scripts rely on: the repository's invocation prints only the command's output, relative
// paths are the user's, and the daemon flags reach every command (and come back in hints).

const tmp = mkdtempSync(join(tmpdir(), 'vtl-scripts-'))

/** pnpm as the README runs it (through npx, pinned), in `cwd`. */
function pnpm(cwd: string, ...args: string[]) {
  const r = spawnSync('npx', ['-y', 'pnpm@10.34.9', ...args], {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      NO_COLOR: undefined,
      npm_lifecycle_event: undefined,
      INIT_CWD: undefined,
    },
    timeout: 120_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('the repository invocation in scripts', () => {
  const sub = join(ROOT, 'packages', 'sim')

  it('pnpm exec vtl … --json from a subfolder: JSON only, the path relative to that folder', () => {
    const r = pnpm(sub, 'exec', 'vtl', 'sim', 'run', 'scenarios/canonical-boot.yaml', '--json')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ scenario: 'canonical-boot', failed: 0 })
  })

  it('pnpm -s vtl (the root script) resolves paths against the folder it was typed in', () => {
    const r = pnpm(sub, '-s', 'vtl', 'sim', 'check', 'scenarios/canonical-boot.yaml', '--json')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({
      valid: true,
      file: 'scenarios/canonical-boot.yaml',
    })
  })
})

/**
 * What `pnpm start` runs once its build is done: the root script's command after the build, with
 * the script's leading `trap : INT;` (so Ctrl-C stops vtld, not the shell pnpm waits on).
 */
function startRunPart(): { build: string; run: string } {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: { start: string }
  }
  const at = scripts.start.indexOf(' && ')
  const build = scripts.start.slice(0, at)
  const trap = build.slice(0, build.indexOf(';') + 1)
  return { build, run: `${trap} ${scripts.start.slice(at + 4)}` }
}

// The built daemon `pnpm start` runs (CI builds before it tests: .ci/run).
const VTLD_DIST = join(ROOT, 'apps', 'daemon', 'dist', 'main.js')
const startSkip =
  spawnSync('script', ['--version']).status !== 0
    ? 'script(1) is missing (util-linux): no terminal to type Ctrl-C on'
    : existsSync(VTLD_DIST)
      ? undefined
      : `${VTLD_DIST} is missing: build first (pnpm run build)`
if (startSkip !== undefined) console.warn(`pnpm start test skipped: ${startSkip}`)

describe('pnpm start', () => {
  it('builds with turbo, then runs vtld with the Ctrl-C trap', () => {
    const { build, run } = startRunPart()
    expect(build).toMatch(/^trap : INT; .*turbo run build .*--filter=@vtl\/daemon\.\.\./)
    expect(run).toMatch(/^trap : INT; .*node apps\/daemon\/bin\/vtld\.mjs /)
  })

  // The run part on the built dist (the build is CI's, not this test's): Ctrl-C on its terminal
  // stops vtld and the shell ends with status 0, so pnpm reports no lifecycle failure.
  it.skipIf(startSkip !== undefined)(
    'runs vtld until Ctrl-C, and ends with status 0',
    async () => {
      const dir = join(tmp, 'start-run')
      mkdirSync(dir, { mode: 0o700 })
      // script(1) gives the shell (sh, as pnpm's) a terminal; Ctrl-C is the byte 0x03 typed on it.
      const child = spawn('script', ['-qfec', startRunPart().run, '/dev/null'], {
        cwd: ROOT,
        env: {
          ...process.env,
          SHELL: '/bin/sh',
          NO_COLOR: '1',
          XDG_RUNTIME_DIR: dir,
          INIT_CWD: undefined,
        },
      })
      let out = ''
      child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c))
      child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c))
      const exited = new Promise<number | null>((resolve) =>
        child.once('close', (code) => {
          resolve(code)
        })
      )
      await new Promise<void>((resolve, reject) => {
        const poll = setInterval(() => {
          if (out.includes('try:')) {
            clearInterval(poll)
            resolve()
          } else if (child.exitCode !== null) {
            clearInterval(poll)
            reject(new Error(`pnpm start ended before vtld listened:\n${out}`))
          }
        }, 100)
      })
      child.stdin.write('\u0003')
      expect(await exited).toBe(0)
      expect(out).toContain('"msg":"vtld stopped"')
    },
    60_000
  )
})

describe('versions', () => {
  it('vtl --version and vtld --version print their package versions', () => {
    const version = (dir: string): string =>
      (
        JSON.parse(readFileSync(join(ROOT, 'apps', dir, 'package.json'), 'utf8')) as {
          version: string
        }
      ).version
    const cli = spawnSync(process.execPath, [join(ROOT, 'apps/cli/bin/vtl.mjs'), '--version'], {
      encoding: 'utf8',
    })
    expect(cli.stdout).toBe(`${version('cli')}\n`)
    const vtld = spawnSync(
      process.execPath,
      [join(ROOT, 'apps/daemon/bin/vtld.mjs'), '--version'],
      {
        encoding: 'utf8',
      }
    )
    expect({ code: vtld.status, stdout: vtld.stdout }).toEqual({
      code: 0,
      stdout: `vtld ${version('daemon')}\n`,
    })
  })
})

describe('--url and --socket reach every command', () => {
  it('daemon status honours --url; daemon start|stop refuse it instead of using the socket', async () => {
    const daemon = await startDaemon({
      socket: join(tmp, 'tcp.sock'),
      dataDir: join(tmp, 'tcp-data'),
      listen: { host: '127.0.0.1', port: 0 },
      scenarioWorkers: 1,
    })
    try {
      const { tcp } = daemon
      if (tcp === undefined) throw new Error('vtld did not listen on TCP')
      const url = `http://127.0.0.1:${tcp.port}`
      const env = {
        VTLD_TOKEN: readFileSync(tcp.tokenFile, 'utf8').trim(),
        XDG_RUNTIME_DIR: join(tmp, 'nothing-here'),
      }
      const status = await vtlAsync(['--url', url, 'daemon', 'status', '--json'], env)
      expect(status).toMatchObject({ code: 0, stderr: '' })
      expect(JSON.parse(status.stdout)).toEqual({
        url,
        healthy: true,
        ready: true,
        pid: null,
        tds: 0,
      })
      const text = await vtlAsync(['--url', url, 'daemon', 'status'], env)
      expect(text.stdout).toBe(`vtld on ${url}: healthy, ready; pid unknown (on TCP); 0 TD(s)\n`)
      const stop = await vtlAsync(['--url', url, 'daemon', 'stop'], env)
      expect(stop.code).toBe(2)
      expect(stop.stderr).toBe(
        `vtl: --url: vtl daemon stop stops the vtld it started on --socket; stop the one at ${url} where it runs\n`
      )
    } finally {
      await daemon.close()
    }
    const gone = await vtlAsync(['--url', 'http://127.0.0.1:9', 'daemon', 'status'])
    expect(gone).toMatchObject({ code: 3 })
    expect(gone.stderr).toContain('http://127.0.0.1:9')
  })

  it('the start hint repeats --socket, and the command it prints stops that daemon', async () => {
    const socket = join(tmp, 'own.sock')
    const started = await vtlAsync([
      '--socket',
      socket,
      'daemon',
      'start',
      '--data-dir',
      join(tmp, 'own-data'),
    ])
    expect(started.code).toBe(0)
    const hint = /stop it with: (.*)\n/.exec(started.stdout)?.[1]
    expect(hint).toBe(`vtl --socket ${socket} daemon stop`)
    const stopped = await vtlAsync(hint?.split(' ').slice(1) ?? [])
    expect(stopped.code).toBe(0)
    expect(stopped.stdout).toContain(`${socket} removed`)
  })
})
