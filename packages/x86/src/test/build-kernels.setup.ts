import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Builds the bundled kernels once before the suite: test files run in parallel workers, and two
 * builds at once could hand one of them a half-written binary.
 */
export default function setup(): void {
  const script = join(dirname(fileURLToPath(import.meta.url)), '../../scripts/build-kernels.mjs')
  const build = spawnSync(process.execPath, [script], { encoding: 'utf8' })
  if (build.status !== 0) throw new Error(`build-kernels failed: ${build.stderr}`)
}
