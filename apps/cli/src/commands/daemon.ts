import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { lstat, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Command } from 'commander'
import { NoDaemonError, type TcpEndpoint } from '../client.js'
import { colors, endpoint, hint, print, type CliContext } from '../context.js'
import {
  defaultDataDir,
  isVtld,
  logFileOf,
  pidFileOf,
  readPid,
  resolveVtld,
} from '../daemon-process.js'
import { CliError, ExitCode, badInput } from '../errors.js'
import { HttpVtldClient } from '../http-client.js'
import { toJson } from '../output/json.js'
import { example } from './stateful.js'

/** How long `start` waits for /readyz and `stop` for the socket to go (ms), and the poll step. */
const START_TIMEOUT_MS = 20_000
const STOP_TIMEOUT_MS = 30_000
const POLL_MS = 100

/** What `vtl daemon status` reports (`url` instead of `socket` for a daemon on TCP). */
interface DaemonState {
  socket?: string
  url?: string
  healthy: boolean
  ready: boolean
  /** From the pid file of `vtl daemon start`, when that process is alive. */
  pid: number | null
  tds: number | null
}

/**
 * The daemon answering on `socket` (or on `tcp`, with its token), or undefined when nothing
 * answers. Only a socket has the pid file of `vtl daemon start`.
 */
async function probe(socket: string, tcp?: TcpEndpoint): Promise<DaemonState | undefined> {
  const client = new HttpVtldClient(socket, tcp)
  let health
  try {
    health = await client.get('/healthz')
  } catch (error) {
    if (error instanceof NoDaemonError) return undefined
    throw error
  }
  const ready = await client.get('/readyz')
  const list = await client.get('/v1/tds')
  const tds = (list.body as { tds?: unknown[] } | undefined)?.tds
  const pid = tcp === undefined ? await readPid(pidFileOf(socket)) : undefined
  return {
    ...(tcp === undefined ? { socket } : { url: tcp.url.origin }),
    healthy: health.status === 200,
    ready: ready.status === 200,
    pid: pid !== undefined && (await isVtld(pid)) ? pid : null,
    tds: list.status === 200 && Array.isArray(tds) ? tds.length : null,
  }
}

/** What a vtld that is gone (killed, crashed) left next to nobody: its socket and pid files. */
interface Leftovers {
  /** The socket file, when it is one. */
  socket: string | undefined
  /** The pid file, and the pid in it when it holds one. */
  pidFile: string | undefined
  pid: number | undefined
}

/**
 * The leftovers at `socket`, to be asked only once no daemon answered there: a socket file and a
 * pid file, unless the pid file names a live vtld. Undefined when there are none.
 */
async function leftovers(socket: string): Promise<Leftovers | undefined> {
  const isSocket = await lstat(socket).then(
    (s) => s.isSocket(),
    () => false
  )
  const pidFile = pidFileOf(socket)
  const pid = await readPid(pidFile)
  // A live vtld that does not answer yet (starting, busy) left nothing: its socket is its own.
  if (pid !== undefined && (await isVtld(pid))) return undefined
  const stalePid = existsSync(pidFile)
  if (!isSocket && !stalePid) return undefined
  return { socket: isSocket ? socket : undefined, pidFile: stalePid ? pidFile : undefined, pid }
}

/** The leftovers in words: `the socket … and the pid file … left by vtld pid N (not running)`. */
function describeLeftovers(l: Leftovers): string {
  const files = [
    l.socket === undefined ? '' : `the socket ${l.socket}`,
    l.pidFile === undefined ? '' : `the pid file ${l.pidFile}`,
  ].filter((f) => f !== '')
  const who = l.pid === undefined ? 'a vtld' : `vtld pid ${l.pid}`
  return `${files.join(' and ')} left by ${who} (not running)`
}

/** Removes the leftovers (the socket only when it is still one). */
async function removeLeftovers(l: Leftovers): Promise<void> {
  if (l.socket !== undefined) await rm(l.socket, { force: true })
  if (l.pidFile !== undefined) await rm(l.pidFile, { force: true })
}

/**
 * The last records of vtld's log (JSON lines), to explain a daemon that died while starting:
 * each record's message, and the reason or error it carries.
 */
async function logTail(file: string, lines = 5): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '')
  return text.trimEnd().split('\n').slice(-lines).map(logLineText).join('\n')
}

/** One pino record as text (`msg`, then `err.message`); a line that is not one, as it is. */
export function logLineText(line: string): string {
  let record: { msg?: unknown; err?: { message?: unknown } }
  try {
    record = JSON.parse(line) as typeof record
  } catch {
    return line
  }
  if (typeof record.msg !== 'string') return line
  const err = record.err?.message
  return typeof err === 'string' && err !== record.msg ? `${record.msg}: ${err}` : record.msg
}

async function waitReady(socket: string, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new CliError(
        'E_DAEMON_START',
        `vtld exited while starting (${child.exitCode ?? child.signalCode}); ${log}:\n${await logTail(log)}`,
        ExitCode.Failed
      )
    }
    if ((await probe(socket))?.ready === true) return
    if (Date.now() > deadline) {
      throw new CliError(
        'E_DAEMON_START',
        `vtld (pid ${child.pid}) is not ready on ${socket} after ${START_TIMEOUT_MS / 1000} s; see ${log}`,
        ExitCode.Failed
      )
    }
    await sleep(POLL_MS)
  }
}

/** Runs vtld attached to this terminal; resolves with its exit code. */
async function foreground(args: string[], pidFile: string): Promise<number> {
  const child = spawn(process.execPath, args, { stdio: 'inherit' })
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal)
  }
  // Ctrl-C reaches vtld through the terminal's process group; SIGTERM sent to vtl is passed on.
  process.on('SIGTERM', forward)
  process.on('SIGINT', () => undefined)
  await writeFile(pidFile, `${child.pid}\n`, { mode: 0o600 })
  const code = await new Promise<number>((resolve) => {
    child.once('exit', (c) => {
      resolve(c ?? 0)
    })
  })
  process.off('SIGTERM', forward)
  await rm(pidFile, { force: true })
  return code === 0 ? ExitCode.Ok : ExitCode.Failed
}

/**
 * The socket of `daemon start|stop`: they manage a local process through the pid file next to its
 * socket, so `--url` (a daemon on TCP, perhaps elsewhere) is refused rather than ignored.
 */
function socketOnly(ctx: CliContext, command: Command, verb: 'start' | 'stop'): string {
  const { socket, tcp } = endpoint(ctx, command)
  if (tcp !== undefined) {
    throw badInput(
      verb === 'start'
        ? '--url: vtl daemon start runs vtld on --socket; for TCP run vtld --listen HOST:PORT'
        : `--url: vtl daemon stop stops the vtld it started on --socket; stop the one at ${tcp.url.origin} where it runs`
    )
  }
  return socket
}

export function daemonCommand(ctx: CliContext): Command {
  const daemon = new Command('daemon').description(
    'start, stop and look at vtld, the daemon that owns the TDs (on --socket)'
  )

  example(
    daemon
      .command('start')
      .description('start vtld in the background on --socket, and wait until it is ready')
      .option('--data-dir <dir>', 'journal and log directory (default $XDG_STATE_HOME/vtld)')
      .option('--foreground', 'run vtld attached to this terminal (logs on stderr) until Ctrl-C')
      .option('--json', 'print {pid, socket, dataDir, log} as JSON'),
    'vtl daemon start',
    'vtl --socket /tmp/demo.sock daemon start --data-dir /tmp/demo-state'
  ).action(
    async (flags: { dataDir?: string; foreground?: boolean; json?: boolean }, command: Command) => {
      const socket = socketOnly(ctx, command, 'start')
      if ((await probe(socket)) !== undefined) {
        throw new CliError(
          'E_DAEMON_RUNNING',
          `a vtld already answers on ${socket} (${hint(ctx, command, 'daemon', 'status')})`,
          ExitCode.Failed
        )
      }
      const stale = await leftovers(socket)
      if (stale !== undefined) {
        ctx.stderr.write(`vtl: removing ${describeLeftovers(stale)}\n`)
        await removeLeftovers(stale)
      }
      const bin = resolveVtld()
      const dataDir = flags.dataDir ?? defaultDataDir(ctx.env)
      const args = [bin, '--socket', socket, '--data-dir', dataDir]
      // In the background its start-up text would only land in the log, which is JSON lines.
      const background = flags.foreground === true ? [] : ['--quiet']
      const pidFile = pidFileOf(socket)
      // The default socket's directory (/tmp/vtld-<uid>/) may not exist yet: the pid file goes there.
      await mkdir(dirname(socket), { recursive: true, mode: 0o700 })
      if (flags.foreground === true) {
        process.exitCode = await foreground(args, pidFile)
        return
      }
      await mkdir(dataDir, { recursive: true, mode: 0o700 })
      const log = logFileOf(dataDir)
      const out = await open(log, 'a', 0o600)
      let child: ChildProcess
      try {
        child = spawn(process.execPath, [...args, ...background], {
          detached: true,
          stdio: ['ignore', out.fd, out.fd],
          env: ctx.env,
        })
      } finally {
        await out.close()
      }
      child.unref()
      await writeFile(pidFile, `${child.pid}\n`, { mode: 0o600 })
      try {
        await waitReady(socket, child, log)
      } catch (error) {
        child.kill('SIGTERM')
        await rm(pidFile, { force: true })
        throw error
      }
      const started = { pid: child.pid ?? null, socket, dataDir, log }
      if (flags.json === true) {
        print(ctx, toJson(started))
        return
      }
      const c = colors(ctx, command)
      print(ctx, `vtld started (pid ${started.pid}), listening on ${c.bold(socket)}`)
      print(
        ctx,
        c.dim(`data ${dataDir}, log ${log}; stop it with: ${hint(ctx, command, 'daemon', 'stop')}`)
      )
    }
  )

  example(
    daemon
      .command('status')
      .description('whether vtld answers on --socket: health, readiness, pid, TDs (exit 3 if not)')
      .option('--json', 'print {socket, healthy, ready, pid, tds} as JSON'),
    'vtl daemon status'
  ).action(async (flags: { json?: boolean }, command: Command) => {
    const { socket, tcp } = endpoint(ctx, command)
    const state = await probe(socket, tcp)
    if (state === undefined) {
      const stale = tcp === undefined ? await leftovers(socket) : undefined
      if (stale !== undefined) {
        ctx.stderr.write(
          `vtl: ${describeLeftovers(stale)}: ${hint(ctx, command, 'daemon', 'start')} replaces them, ${hint(ctx, command, 'daemon', 'stop')} removes them\n`
        )
      }
      throw new NoDaemonError(tcp?.url.origin ?? socket)
    }
    if (flags.json === true) {
      print(ctx, toJson(state))
      return
    }
    const c = colors(ctx, command)
    const health = state.healthy ? c.green('healthy') : c.red('unhealthy')
    const ready = state.ready ? c.green('ready') : c.yellow('not ready')
    const pid =
      state.pid !== null
        ? `pid ${state.pid}`
        : tcp === undefined
          ? 'pid unknown (not started by vtl daemon start)'
          : 'pid unknown (on TCP)'
    const tds = state.tds === null ? 'TDs unknown' : `${state.tds} TD(s)`
    const where = state.url ?? socket
    print(ctx, `vtld on ${c.bold(where)}: ${health}, ${ready}; ${pid}; ${tds}`)
  })

  example(
    daemon
      .command('stop')
      .description(
        'stop the vtld that `vtl daemon start` started on --socket (SIGTERM; it drains and removes the socket)'
      )
      .option('--json', 'print {pid, socket} as JSON'),
    'vtl daemon stop'
  ).action(async (flags: { json?: boolean }, command: Command) => {
    const socket = socketOnly(ctx, command, 'stop')
    const pidFile = pidFileOf(socket)
    const pid = await readPid(pidFile)
    if (pid === undefined || !(await isVtld(pid))) {
      if ((await probe(socket)) === undefined) {
        const stale = await leftovers(socket)
        if (stale !== undefined) {
          await removeLeftovers(stale)
          ctx.stderr.write(`vtl: removed ${describeLeftovers(stale)}\n`)
        }
        throw new NoDaemonError(socket)
      }
      await rm(pidFile, { force: true })
      throw new CliError(
        'E_DAEMON_NOT_OURS',
        `the vtld on ${socket} was not started by vtl daemon start (no live pid in ${pidFile}): stop it where it runs (Ctrl-C, or kill its pid)`,
        ExitCode.Failed
      )
    }
    process.kill(pid, 'SIGTERM')
    const deadline = Date.now() + STOP_TIMEOUT_MS
    while (existsSync(socket) || (await isVtld(pid))) {
      if (Date.now() > deadline) {
        throw new CliError(
          'E_DAEMON_STOP',
          `vtld (pid ${pid}) has not stopped after ${STOP_TIMEOUT_MS / 1000} s (it drains queued commands first)`,
          ExitCode.Failed
        )
      }
      await sleep(POLL_MS)
    }
    await rm(pidFile, { force: true })
    if (flags.json === true) {
      print(ctx, toJson({ pid, socket }))
      return
    }
    print(ctx, `vtld (pid ${pid}) stopped; ${socket} removed`)
  })

  return daemon
}
