import { homedir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { startDaemon } from './server.js'
import { defaultSocketPath } from './socket-path.js'

// vtld: parses argv, starts the daemon, shuts down gracefully on SIGTERM/SIGINT.

const USAGE = `usage: vtld [--socket PATH] [--data-dir DIR]
  --socket PATH    unix socket (default $XDG_RUNTIME_DIR/vtld.sock or /tmp/vtld-<uid>.sock)
  --data-dir DIR   journal directory (default $XDG_STATE_HOME/vtld or ~/.local/state/vtld)
`

function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const state = env.XDG_STATE_HOME
  return state !== undefined && state !== ''
    ? join(state, 'vtld')
    : join(homedir(), '.local/state/vtld')
}

async function main(): Promise<void> {
  const log = pino({ name: 'vtld' }, pino.destination(2))
  let values
  try {
    ;({ values } = parseArgs({
      options: {
        socket: { type: 'string' },
        'data-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }))
  } catch (error) {
    process.stderr.write(
      `vtld: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`
    )
    process.exitCode = 2
    return
  }
  if (values.help === true) {
    process.stdout.write(USAGE)
    return
  }
  const socket = values.socket ?? defaultSocketPath()
  const dataDir = values['data-dir'] ?? defaultDataDir(process.env)
  const daemon = await startDaemon({ socket, dataDir })
  log.info({ socket, dataDir, tds: daemon.tds.list().length }, 'vtld listening')
  const stop = (signal: string) => {
    log.info({ signal }, 'vtld shutting down')
    daemon.close().then(
      () => {
        log.info('vtld stopped')
      },
      (error: unknown) => {
        log.error({ err: error }, 'vtld shutdown failed')
        process.exitCode = 1
      }
    )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

main().catch((error: unknown) => {
  process.stderr.write(`vtld: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
})
