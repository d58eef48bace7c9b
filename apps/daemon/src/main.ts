import { createRequire } from 'node:module'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { BACKENDS, BackendRefusedError, checkBackend, type BackendKind } from './backend.js'
import { VtlError } from '@vtl/core'
import { DataDirLockedError } from './data-dir-lock.js'
import { OwnershipError } from './ownership.js'
import { DEFAULT_REQUEST_TIMEOUT_MS } from './request-timeout.js'
import { startDaemon, type Daemon } from './server.js'
import { defaultSocketPath } from './socket-path.js'

// vtld: parses argv, checks the backend, starts the daemon, says where it listens, and shuts down
// gracefully on SIGTERM/SIGINT (a second signal exits at once).

const USAGE = `usage: vtld [options]
  --socket PATH            unix socket, no token needed, mode 0600
                           (default $XDG_RUNTIME_DIR/vtld.sock or /tmp/vtld-<uid>/vtld.sock)
  --data-dir DIR           journal (and generated token) directory
                           (default $XDG_STATE_HOME/vtld or ~/.local/state/vtld)
  --listen HOST:PORT       also listen on TCP; every request needs Authorization: Bearer <token>
  --token-file PATH        the TCP token (mode 0600/0400); default: generated <data-dir>/vtld.token
  --request-timeout SEC    answer E_TIMEOUT after SEC seconds (default ${DEFAULT_REQUEST_TIMEOUT_MS / 1000})
  --backend sim|hw         new TDs on the simulator (default) or the hardware path (HwPlatform;
                           refused, naming what the probe found, where the probe fails)
  --recover-journal        start on a damaged journal from each TD's last good record
                           (says what it drops; without it vtld refuses to start)
  --quiet                  no start-up text on stdout (logs stay on stderr)
  -V, --version            print the version
  -h, --help               this text
Exit codes: 0 stopped cleanly, 1 failed, 2 bad arguments, backend refused, data dir in use, or a
socket, data dir or token file vtld refuses (another user's, writable by others, a short token).
`

class UsageError extends Error {}

function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const state = env.XDG_STATE_HOME
  return state !== undefined && state !== ''
    ? join(state, 'vtld')
    : join(homedir(), '.local/state/vtld')
}

/** `127.0.0.1:7878`, `[::1]:7878` or `localhost:0`. */
function parseListen(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text)
  const port = Number(match?.[3])
  const host = match?.[1] ?? match?.[2]
  if (host === undefined || !(port <= 65535)) {
    throw new UsageError(`--listen expects HOST:PORT (e.g. 127.0.0.1:7878), got ${text}`)
  }
  return { host, port }
}

function parseTimeout(text: string): number {
  const seconds = Number(text)
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`--request-timeout expects seconds > 0, got ${text}`)
  }
  return Math.round(seconds * 1000)
}

function parseBackend(text: string): BackendKind {
  const backend = BACKENDS.find((b) => b === text)
  if (backend === undefined) throw new UsageError(`--backend expects sim or hw, got ${text}`)
  return backend
}

const isLoopback = (host: string): boolean =>
  host === '::1' || host === 'localhost' || host.startsWith('127.')

/** What a person reads on start: where vtld listens and three `vtl` commands to try. */
function banner(daemon: Daemon, defaultSocket: boolean): string {
  // VTL_CLI names the CLI as the user reaches it (the repository's `pnpm start` says `pnpm vtl`).
  const cli = process.env.VTL_CLI ?? 'vtl'
  const vtl = defaultSocket ? cli : `${cli} --socket ${daemon.socket}`
  const lines = [`vtld listening on ${daemon.socket} (unix socket, mode 0600, no token)`]
  if (daemon.tcp !== undefined) {
    const { host, port, tokenFile } = daemon.tcp
    const at = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
    lines.push(
      `     and on http://${at} (Authorization: Bearer $(cat ${tokenFile}))`,
      `     metrics: curl -H "Authorization: Bearer $(cat ${tokenFile})" http://${at}/metrics`
    )
  }
  lines.push(
    'try:',
    `  ${vtl} td create --name demo --vps 2 --memory 64MiB`,
    `  ${vtl} vsm enable-partition --td demo`,
    `  ${vtl} vsm status --td demo`
  )
  return `${lines.join('\n')}\n`
}

// stderr is vtld's log: one JSON object per line (pino), Node's own warnings and the reason vtld
// could not start included, so a log file (`vtl daemon start`'s vtld.log) is JSON lines only.
// stdout is for people: the start-up text, --help, --version. Bad arguments (exit 2 before
// anything starts) print the usage text instead.
const log = pino({ name: 'vtld' }, pino.destination({ dest: 2, sync: true }))
process.removeAllListeners('warning')
process.on('warning', (warning) => {
  log.warn({ warning: warning.name }, warning.message)
})

async function main(): Promise<number | undefined> {
  // Everything vtld creates (journal, WAL, lock, token) is the user's alone.
  process.umask(0o077)
  const { values } = parseArgs({
    options: {
      socket: { type: 'string' },
      'data-dir': { type: 'string' },
      listen: { type: 'string' },
      'token-file': { type: 'string' },
      'request-timeout': { type: 'string' },
      backend: { type: 'string', default: 'sim' },
      quiet: { type: 'boolean', default: false },
      'recover-journal': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'V' },
    },
    strict: true,
  })
  if (values.help === true) {
    process.stdout.write(USAGE)
    return 0
  }
  if (values.version === true) {
    const manifest = createRequire(import.meta.url)('../package.json') as { version: string }
    process.stdout.write(`vtld ${manifest.version}\n`)
    return 0
  }
  if (values['token-file'] !== undefined && values.listen === undefined) {
    throw new UsageError('--token-file needs --listen (the unix socket takes no token)')
  }
  const listen = values.listen === undefined ? undefined : parseListen(values.listen)
  const requestTimeoutMs =
    values['request-timeout'] === undefined ? undefined : parseTimeout(values['request-timeout'])
  const backend = parseBackend(values.backend)
  const served = await checkBackend(backend)

  const socket = values.socket ?? defaultSocketPath()
  const dataDir = values['data-dir'] ?? defaultDataDir(process.env)
  const daemon = await startDaemon({
    socket,
    dataDir,
    processMetrics: true,
    log,
    recoverJournal: values['recover-journal'],
    backend: served,
    ...(listen === undefined ? {} : { listen }),
    ...(values['token-file'] === undefined ? {} : { tokenFile: values['token-file'] }),
    ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
  })
  log.info(
    { socket, tcp: daemon.tcp, dataDir, backend, tds: daemon.tds.list().length },
    'vtld listening'
  )
  if (daemon.tcp !== undefined && !isLoopback(daemon.tcp.host)) {
    log.warn(
      { host: daemon.tcp.host },
      'vtld: TCP listens beyond loopback in plain HTTP; the bearer token travels in clear (put TLS in front)'
    )
  }
  if (!values.quiet) process.stdout.write(banner(daemon, values.socket === undefined))

  const stopped = new Promise<number>((resolve) => {
    let stopping = false
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        log.warn({ signal }, 'vtld: second signal, exiting without a clean shutdown')
        resolve(1)
        return
      }
      stopping = true
      log.info({ signal }, 'vtld shutting down')
      daemon.close().then(
        () => {
          log.info('vtld stopped')
          resolve(0)
        },
        (error: unknown) => {
          log.error({ err: error }, 'vtld shutdown failed')
          resolve(1)
        }
      )
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
  })
  return await stopped
}

main().then(
  (code) => {
    // Explicit: nothing left behind (an idle worker thread, a metrics timer) may hold the exit.
    process.exit(code ?? 0)
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error)
    const code = (error as { code?: unknown }).code
    const usage =
      error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
    if (usage) {
      process.stderr.write(`vtld: ${message}\n${USAGE}`)
      process.exit(2)
    }
    const refused =
      error instanceof DataDirLockedError ||
      error instanceof OwnershipError ||
      (VtlError.isInstance(error) && error.field === 'token-file')
    if (refused) {
      log.fatal(message)
      process.exit(2)
    }
    if (error instanceof BackendRefusedError) {
      for (const reason of error.reasons) log.fatal({ reason }, `backend refused: ${reason}`)
      process.exit(2)
    }
    log.fatal({ err: error }, message)
    process.exit(1)
  }
)
