import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The SDK's include directory (vtl-guest.asm). */
export const SDK_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../sdk')

export function nasmAvailable(): boolean {
  return spawnSync('nasm', ['-v'], { encoding: 'utf8' }).status === 0
}

/** Assembles a flat binary with nasm (`-f bin`), the SDK on the include path. */
export function nasm(source: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'vtl-x86-'))
  try {
    const input = join(dir, 'kernel.asm')
    const output = join(dir, 'kernel.bin')
    writeFileSync(input, source)
    const run = spawnSync('nasm', ['-f', 'bin', '-I', `${SDK_DIR}/`, '-o', output, input], {
      encoding: 'utf8',
    })
    if (run.status !== 0) throw new Error(`nasm failed: ${run.stderr}`)
    return readFileSync(output)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
