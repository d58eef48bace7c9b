import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

// The real programs the browser suite drives: the built vtld and `vtl ui`, as a user starts them.

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const VTLD = join(ROOT, 'apps', 'daemon', 'bin', 'vtld.mjs')
const VTL = join(ROOT, 'apps', 'cli', 'bin', 'vtl.mjs')
const BUILDS = [
  join(ROOT, 'apps', 'daemon', 'dist', 'main.js'),
  join(ROOT, 'apps', 'cli', 'dist', 'main.js'),
  join(ROOT, 'apps', 'console', 'dist', 'index.html'),
]

/** The builds the suite needs and does not have (CI builds before it tests). */
export const missingBuilds = (): string[] => BUILDS.filter((file) => !existsSync(file))

export interface Running {
  child: ChildProcess
  output: () => string
  stop: () => Promise<void>
}

/** Starts `file` with node; resolves once a stdout line matches `ready` (its match returned). */
export function start(
  program: 'vtld' | 'vtl',
  args: readonly string[],
  ready: RegExp,
  timeoutMs = 20_000
): Promise<{ running: Running; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, [program === 'vtld' ? VTLD : VTL, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve()
        return
      }
      child.once('exit', () => {
        resolve()
      })
      child.kill('SIGTERM')
    })
  const running: Running = { child, output: () => out, stop }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop()
      reject(new Error(`${program} did not get ready in ${timeoutMs} ms:\n${out}`))
    }, timeoutMs)
    const read = (chunk: Buffer) => {
      out += chunk.toString('utf8')
      const match = ready.exec(out)
      if (match === null) return
      clearTimeout(timer)
      resolve({ running, match })
    }
    child.stdout.on('data', read)
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')))
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${program} exited (${String(code)}) before it was ready:\n${out}`))
    })
  })
}
