import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { CliError, ExitCode } from './errors.js'

// Where `vtl daemon` finds vtld and keeps what it needs to find the daemon again: the pid file
// next to the socket (runtime state), the log in the data dir.

/** vtld's own default data dir: `$XDG_STATE_HOME/vtld`, else `~/.local/state/vtld`. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.XDG_STATE_HOME
  return state !== undefined && state !== ''
    ? join(state, 'vtld')
    : join(homedir(), '.local', 'state', 'vtld')
}

/** The pid file `vtl daemon start` writes for a socket. */
export const pidFileOf = (socket: string): string => `${socket}.pid`

/** The log file of a daemon started in the background. */
export const logFileOf = (dataDir: string): string => join(dataDir, 'vtld.log')

/**
 * The `vtld` script of the installed @vtl/daemon. It is a development dependency of `vtl` (the
 * daemon is a private package), so an installed `vtl` may not have it: the error says how to run
 * vtld instead.
 */
export function resolveVtld(
  findManifest: () => string = () =>
    createRequire(import.meta.url).resolve('@vtl/daemon/package.json')
): string {
  try {
    const manifest = findManifest()
    const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as {
      bin?: string | Record<string, string>
    }
    const script = typeof bin === 'string' ? bin : bin?.vtld
    if (script === undefined) throw new Error(`${manifest} names no vtld bin`)
    return join(dirname(manifest), script)
  } catch (error) {
    throw new CliError(
      'E_NO_VTLD',
      '@vtl/daemon (vtld) is not installed next to vtl; run it from a checkout instead: ' +
        'node apps/daemon/bin/vtld.mjs --socket PATH (after npx turbo run build --filter=@vtl/daemon...)',
      ExitCode.Failed,
      { cause: error }
    )
  }
}

/** The pid in a pid file, if the file exists and holds one. */
export async function readPid(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined)
  const pid = text === undefined ? NaN : Number.parseInt(text.trim(), 10)
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
}

/**
 * Whether `pid` is a live vtld: the process exists and, where /proc tells, runs the vtld script
 * (a pid file outliving its daemon may name a reused pid).
 */
export async function isVtld(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0)
  } catch {
    // ESRCH: gone; EPERM: another user's process, not a daemon we started.
    return false
  }
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined)
  return cmdline === undefined || cmdline.includes('vtld')
}
