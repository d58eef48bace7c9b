import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'

// One vtld per data dir: two daemons on one journal both acknowledge writes, and one's snapshot
// compaction deletes the other's records. The lock is SQLite's own (an exclusive fcntl lock on
// `vtld.lock`, held by the open connection), so the kernel drops it when the holder dies, even
// by kill -9; `vtld.pid` says who holds it.

export const LOCK_FILE = 'vtld.lock'
export const HOLDER_FILE = 'vtld.pid'

/** Another live vtld holds the data dir (vtld exits 2). */
export class DataDirLockedError extends Error {
  readonly holder: { pid?: number; socket?: string } | undefined

  constructor(dataDir: string, holder: { pid?: number; socket?: string } | undefined) {
    const who =
      holder === undefined
        ? 'another vtld'
        : `vtld pid ${String(holder.pid ?? '?')} (socket ${holder.socket ?? '?'})`
    super(
      `data dir ${dataDir} is in use by ${who}; stop it first, or give this vtld another --data-dir`
    )
    this.name = 'DataDirLockedError'
    this.holder = holder
  }
}

/** A held data-dir lock. */
export interface DataDirLock {
  release(): void
}

function readHolder(dataDir: string): { pid?: number; socket?: string } | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, HOLDER_FILE), 'utf8')) as {
      pid?: number
      socket?: string
    }
  } catch {
    return undefined
  }
}

/** Takes the data dir for this process, or throws `DataDirLockedError` naming the holder. */
export function lockDataDir(dataDir: string, socket: string): DataDirLock {
  const db = new Database(join(dataDir, LOCK_FILE), { timeout: 0 })
  try {
    db.pragma('locking_mode = EXCLUSIVE')
    // The first write takes the exclusive lock; EXCLUSIVE mode keeps it until the connection closes.
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder')
    db.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid)
  } catch (error) {
    db.close()
    if ((error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new DataDirLockedError(dataDir, readHolder(dataDir))
    }
    throw error
  }
  writeFileSync(
    join(dataDir, HOLDER_FILE),
    `${JSON.stringify({ pid: process.pid, socket, since: new Date().toISOString() })}\n`,
    { mode: 0o600 }
  )
  return {
    release: () => {
      if (db.open) db.close()
    },
  }
}
