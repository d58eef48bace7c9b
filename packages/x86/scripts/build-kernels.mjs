// Assembles the bundled test kernels (kernels/<scenario>/*.asm → *.bin next to them) with nasm and
// the SDK on the include path. Binaries are build output, never committed. Without nasm it says
// so and exits 0: the scripted simulator needs none of this, and the kernel tests skip.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const kernels = join(root, 'kernels')
const sdk = join(root, 'sdk')

if (spawnSync('nasm', ['-v'], { encoding: 'utf8' }).status !== 0) {
  console.log('build-kernels: nasm not found (apt-get install nasm); test kernels not built')
  process.exit(0)
}
let failed = false
for (const scenario of readdirSync(kernels)) {
  const dir = join(kernels, scenario)
  if (!statSync(dir).isDirectory()) continue
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.asm'))) {
    const out = join(dir, file.replace(/\.asm$/, '.bin'))
    const run = spawnSync('nasm', ['-f', 'bin', '-I', `${sdk}/`, '-o', out, join(dir, file)], {
      encoding: 'utf8',
    })
    if (run.status !== 0) {
      console.error(`build-kernels: ${scenario}/${file}: ${run.stderr}`)
      failed = true
    }
  }
}
process.exit(failed ? 1 : 0)
