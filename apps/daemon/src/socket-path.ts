import { connect } from 'node:net'
import { lstat, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { OwnershipError, ownDirectory } from './ownership.js'

/**
 * `$XDG_RUNTIME_DIR/vtld.sock`, or `/tmp/vtld-<uid>/vtld.sock` without a runtime dir (as `vtl`):
 * always in a directory only the user owns, never a name in a shared one that another user
 * could take first.
 */
export function defaultSocketPath(
  env: NodeJS.ProcessEnv = process.env,
  uid: number = process.getuid?.() ?? 0
): string {
  const runtime = env.XDG_RUNTIME_DIR
  if (runtime !== undefined && runtime !== '') return `${runtime.replace(/\/+$/, '')}/vtld.sock`
  return `/tmp/vtld-${uid}/vtld.sock`
}

/** Whether something accepts connections on the unix socket. */
export function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ path })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => {
      resolve(false)
    })
  })
}

/**
 * Makes the path free for a new listener: its directory is created 0700 when missing and must be
 * the user's own and not writable by others; refuses another user's socket, a live daemon, or
 * anything that is not a socket; removes a stale socket file (a daemon that died uncleanly).
 */
export async function claimSocketPath(path: string): Promise<void> {
  ownDirectory(dirname(path), 'socket directory')
  let stat
  try {
    stat = await lstat(path)
  } catch {
    return
  }
  if (!stat.isSocket())
    throw new Error(`${path} exists and is not a socket; refusing to replace it`)
  const uid = process.getuid?.()
  if (uid !== undefined && stat.uid !== uid) {
    throw new OwnershipError(
      `the socket ${path} belongs to uid ${stat.uid}, not to this user (uid ${uid}); refusing it`
    )
  }
  if (await socketAnswers(path)) throw new Error(`a live vtld already answers on ${path}`)
  await unlink(path)
}
