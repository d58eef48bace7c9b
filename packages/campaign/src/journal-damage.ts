import { cp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { InvariantLog } from './invariant-log.js'
import { VtldProcess } from './vtld-process.js'

// Journal damage on a copy of a crashed (or stopped) data dir: vtld must either refuse it, naming
// the data dir and the ways out (a copy to restore; --recover-journal when records can be
// dropped, which must then start), or serve it with nothing acknowledged lost (damage to what was
// already checkpointed can be harmless). Silent loss is the failure.

const WAL = 'vtld.sqlite-wal'
const DB = 'vtld.sqlite'

/** One kind of damage, applied to a data dir's files. */
export interface Damage {
  name: string
  apply: (dataDir: string) => Promise<void>
}

async function rewrite(file: string, change: (bytes: Buffer) => void): Promise<void> {
  const bytes = await readFile(file)
  change(bytes)
  await writeFile(file, bytes)
}

/** Damage to a data dir as a kill -9 leaves it (the database with its WAL). */
export const WAL_DAMAGE: readonly Damage[] = [
  { name: 'the -wal file deleted', apply: (dir) => rm(join(dir, WAL)) },
  { name: 'a 0-byte database with its WAL', apply: (dir) => truncate(join(dir, DB), 0) },
  {
    name: 'garbage in the WAL header',
    apply: (dir) =>
      rewrite(join(dir, WAL), (bytes) => {
        bytes.fill(0x5a, 0, 32)
      }),
  },
  {
    name: 'bytes flipped mid-WAL',
    apply: (dir) =>
      rewrite(join(dir, WAL), (bytes) => {
        const at = Math.floor(bytes.length / 2)
        for (let i = at; i < Math.min(bytes.length, at + 64); i++) bytes[i] = (bytes[i] ?? 0) ^ 0xff
      }),
  },
  {
    name: 'the WAL cut in half',
    apply: async (dir) => {
      const file = join(dir, WAL)
      await truncate(file, Math.floor((await stat(file)).size / 2))
    },
  },
]

/**
 * One changed byte inside a stored TD (a stopped data dir holds each TD as a snapshot row): a
 * digit of its VP list changes, the JSON stays valid, only the row's checksum can tell.
 */
export const ROW_DAMAGE: Damage = {
  name: 'one changed byte in a stored record',
  apply: (dir) =>
    rewrite(join(dir, DB), (bytes) => {
      const at = bytes.indexOf('"vps":[{')
      if (at < 0) throw new Error('no stored snapshot to damage')
      for (let i = at + 8; i < bytes.length; i++) {
        const byte = bytes[i] ?? 0
        if (byte >= 0x30 && byte <= 0x38) {
          bytes[i] = byte + 1
          return
        }
      }
      throw new Error('no digit to change')
    }),
}

/**
 * Copies `dataDir`, damages the copy and starts vtld on it. Refused: the message must name the
 * copy and a way out, and when it offers --recover-journal vtld must start with it. Started:
 * `lossless` checks that nothing acknowledged is missing.
 */
export async function damagedStart(
  dataDir: string,
  work: string,
  damage: Damage,
  log: InvariantLog,
  lossless: (vtld: VtldProcess) => Promise<void>
): Promise<void> {
  const image = join(work, 'damaged')
  const socket = join(work, 'damaged.sock')
  await rm(image, { recursive: true, force: true })
  await cp(dataDir, image, { recursive: true })
  await damage.apply(image)
  let vtld: VtldProcess | undefined
  let refusal = ''
  try {
    vtld = await VtldProcess.start(socket, image)
  } catch (error) {
    refusal = error instanceof Error ? error.message : String(error)
  }
  if (vtld !== undefined) {
    log.tally(`journal damage served without loss: ${damage.name}`)
    await lossless(vtld)
    await vtld.stop()
    return
  }
  log.tally(`journal damage refused: ${damage.name}`)
  log.check(
    'journal damage is refused naming the data dir and the way out',
    /exited \(1\)/.test(refusal) && refusal.includes(image) && /restore a copy of/.test(refusal),
    () => `${damage.name}: ${refusal}`
  )
  if (!refusal.includes('--recover-journal')) return
  let recovered: VtldProcess | undefined
  try {
    recovered = await VtldProcess.start(socket, image, 30_000, ['--recover-journal'])
  } catch (error) {
    refusal = error instanceof Error ? error.message : String(error)
  }
  log.check('--recover-journal starts on damage', recovered !== undefined, () => {
    return `${damage.name}: ${refusal}`
  })
  await recovered?.stop()
}

/** The damage a run applies to its kill -9 image: consecutive seeds take every kind in turn. */
export function walDamage(seed: number): Damage {
  return WAL_DAMAGE[seed % WAL_DAMAGE.length] ?? ROW_DAMAGE
}
