// Builds the bundled test kernels (kernels/<scenario>/*.asm with nasm, *.c with the SDK's
// Makefile and the C compiler) into *.bin next to their sources, each linked at the GPA its
// scenario.yaml loads it at. Binaries are build output, never committed. A missing tool is
// reported and its kernels skipped (exit 0): the scripted simulator needs none of this, and the
// kernel tests skip the same way.
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const kernels = join(root, 'kernels')
const sdk = join(root, 'sdk')

const has = (tool, arg = '--version') => spawnSync(tool, [arg], { encoding: 'utf8' }).status === 0
const tools = { asm: has('nasm', '-v'), c: has('make') && has('cc') && has('objcopy') }
const missing = { asm: 'nasm (apt-get install nasm)', c: 'make, cc and objcopy' }

/**
 * The GPA `scenario.yaml` loads `<name>.bin` at (the C link address), default 0x100000. The file
 * is read as YAML, not the scenario format: its images do not exist before this build.
 */
function loadAddress(dir, name) {
  const yaml = join(dir, 'scenario.yaml')
  if (!existsSync(yaml)) return '0x100000'
  const images = parse(readFileSync(yaml, 'utf8'))?.partition?.images ?? []
  const gpa = images.find((image) => image?.file === `${name}.bin`)?.gpa
  // Decimal, hex string or number, as the scenario format allows: one form for the linker.
  return gpa === undefined ? '0x100000' : `0x${BigInt(gpa).toString(16)}`
}

let failed = false
const skipped = new Set()
for (const entry of readdirSync(kernels, { withFileTypes: true })) {
  if (!entry.isDirectory()) continue
  const dir = join(kernels, entry.name)
  for (const file of readdirSync(dir)) {
    const kind = file.endsWith('.asm') ? 'asm' : file.endsWith('.c') ? 'c' : undefined
    if (kind === undefined) continue
    if (!tools[kind]) {
      skipped.add(missing[kind])
      continue
    }
    const name = file.replace(/\.(asm|c)$/, '')
    const run =
      kind === 'asm'
        ? spawnSync('nasm', ['-f', 'bin', '-I', `${sdk}/`, '-o', `${name}.bin`, file], {
            cwd: dir,
            encoding: 'utf8',
          })
        : spawnSync(
            'make',
            [
              '-s',
              '-f',
              join(sdk, 'Makefile'),
              `SDK=${sdk}`,
              `VTL_LOAD=${loadAddress(dir, name)}`,
              `${name}.bin`,
            ],
            { cwd: dir, encoding: 'utf8' }
          )
    if (run.status !== 0) {
      console.error(`build-kernels: ${entry.name}/${file}: ${run.stderr}`)
      failed = true
    }
  }
}
for (const tool of skipped) console.log(`build-kernels: ${tool} not found; those kernels not built`)
process.exit(failed ? 1 : 0)
