import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { nasm, SDK_DIR } from './nasm.js'

/** The bundled test kernels' sources (built here, at test time: no binary is committed). */
export const KERNELS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../kernels')

/** Whether the SDK's C recipe can run here (make, a C compiler and objcopy). */
export function cToolchainAvailable(): boolean {
  return ['make', 'cc', 'objcopy'].every(
    (tool) => spawnSync(tool, ['--version'], { encoding: 'utf8' }).status === 0
  )
}

/** `name.asm` with nasm, or `name.c` through the SDK's Makefile; the flat image's bytes. */
export function buildKernel(file: string): Buffer {
  if (file.endsWith('.asm')) return nasm(readFileSync(join(KERNELS_DIR, file), 'utf8'))
  const dir = mkdtempSync(join(tmpdir(), 'vtl-kernel-'))
  try {
    copyFileSync(join(KERNELS_DIR, file), join(dir, file))
    const target = file.replace(/\.c$/, '.bin')
    const make = spawnSync(
      'make',
      ['-s', '-f', join(SDK_DIR, 'Makefile'), `SDK=${SDK_DIR}`, target],
      {
        cwd: dir,
        encoding: 'utf8',
      }
    )
    if (make.status !== 0) throw new Error(`make ${target} failed: ${make.stderr}`)
    return readFileSync(join(dir, target))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
