import { constants } from 'node:fs'
import { access, chmod, stat, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { badInput } from './errors.js'

// Files a command writes (`--trace`, `-o`, `--svg`): checked before any work starts, so a typo'd
// folder is exit 2 at once rather than an ENOENT after the whole run; `-` is stdout.

/** Whether `file` names stdout. */
export const isStdout = (file: string): boolean => file === '-'

/** Refuses (exit 2, naming the flag) a path that cannot be written: no folder, or a folder. */
export async function checkOutputFile(flag: string, file: string): Promise<void> {
  if (isStdout(file)) return
  if (file === '') throw badInput(`${flag}: expected a file name (or - for stdout)`)
  const info = await stat(file).catch(() => undefined)
  if (info?.isDirectory() === true) {
    throw badInput(`${flag} ${file}: is a folder; name a file in it (or - for stdout)`)
  }
  const folder = dirname(file)
  const parent = await stat(folder).catch(() => undefined)
  if (parent === undefined) throw badInput(`${flag} ${file}: the folder ${folder} does not exist`)
  if (!parent.isDirectory()) throw badInput(`${flag} ${file}: ${folder} is not a folder`)
  try {
    await access(info === undefined ? folder : file, constants.W_OK)
  } catch {
    throw badInput(`${flag} ${file}: not writable`)
  }
}

/** Writes `text` to `file`, or to `stdout` for `-`; `mode` also applies to a file that existed. */
export async function writeOutputFile(
  file: string,
  text: string,
  stdout: NodeJS.WritableStream,
  mode?: number
): Promise<void> {
  if (isStdout(file)) {
    stdout.write(text)
    return
  }
  await writeFile(file, text, mode === undefined ? {} : { mode })
  if (mode !== undefined) await chmod(file, mode)
}
