import { chmodSync, lstatSync, mkdirSync, readdirSync, type Stats } from 'node:fs'
import { join } from 'node:path'

// Another local user must not stand in for vtld: a socket or directory they own (or may write)
// could receive the CLI's requests, and a data dir or token file they planted would hand them
// the daemon's journal or its TCP token. vtld refuses such paths, saying why.

/** A path owned by another user or writable by others (vtld exits 2). */
export class OwnershipError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'OwnershipError'
  }
}

const me = (): number | undefined => process.getuid?.()

function stat(path: string): Stats | undefined {
  try {
    return lstatSync(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/**
 * Refuses `path` (a `what`, e.g. "socket directory") when it is a symbolic link, owned by another
 * user, or writable by group or others. A missing path passes (the caller creates it 0700/0600).
 */
export function checkOwnPath(path: string, what: string): void {
  const uid = me()
  const st = stat(path)
  if (st === undefined || uid === undefined) return
  if (st.isSymbolicLink())
    throw new OwnershipError(`${what} ${path} is a symbolic link; refusing it`)
  if (st.uid !== uid) {
    throw new OwnershipError(
      `${what} ${path} is owned by uid ${st.uid}, not by this user (uid ${uid}); another user ` +
        'could stand in for vtld there: refusing it'
    )
  }
  if ((st.mode & 0o022) !== 0) {
    throw new OwnershipError(
      `${what} ${path} is writable by group or others (mode ${(st.mode & 0o777).toString(8)}); ` +
        `chmod go-w it (0700 for a directory)`
    )
  }
}

/** Creates a directory 0700 if missing, then refuses it unless it is this user's own. */
export function ownDirectory(path: string, what: string): void {
  try {
    mkdirSync(path, { mode: 0o700 })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  checkOwnPath(path, what)
  if (!(stat(path)?.isDirectory() ?? false))
    throw new OwnershipError(`${what} ${path} is not a directory`)
}

/** Makes every regular file in `dir` 0600 (journal, WAL, lock, watermark, token). */
export function privateFiles(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile()) chmodSync(join(dir, entry.name), 0o600)
  }
}
