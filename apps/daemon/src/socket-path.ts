import { connect } from 'node:net'
import { lstat, unlink } from 'node:fs/promises'

/** `$XDG_RUNTIME_DIR/vtld.sock`, or `/tmp/vtld-<uid>.sock` without a runtime dir (as `vtl`). */
export function defaultSocketPath(
  env: NodeJS.ProcessEnv = process.env,
  uid: number = process.getuid?.() ?? 0
): string {
  const runtime = env.XDG_RUNTIME_DIR
  if (runtime !== undefined && runtime !== '') return `${runtime.replace(/\/+$/, '')}/vtld.sock`
  return `/tmp/vtld-${uid}.sock`
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
 * Makes the path free for a new listener: refuses when a live daemon answers there or when it is
 * not a socket; removes a stale socket file (a daemon that died without cleaning up).
 */
export async function claimSocketPath(path: string): Promise<void> {
  let stat
  try {
    stat = await lstat(path)
  } catch {
    return
  }
  if (!stat.isSocket())
    throw new Error(`${path} exists and is not a socket; refusing to replace it`)
  if (await socketAnswers(path)) throw new Error(`a live vtld already answers on ${path}`)
  await unlink(path)
}
