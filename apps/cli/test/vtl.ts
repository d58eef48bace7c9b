import { spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const CLI_DIR = fileURLToPath(new URL('..', import.meta.url))
export const ROOT = join(CLI_DIR, '..', '..')
export const BIN = join(CLI_DIR, 'bin', 'vtl.mjs')
export const SCENARIOS = join(ROOT, 'packages', 'sim', 'scenarios')

export interface VtlResult {
  code: number | null
  stdout: string
  stderr: string
}

/** The test process's environment without the colour and width variables the test runner may set. */
function userEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, COLUMNS: undefined, ...env }
}

/** Runs the built `vtl` binary as a user would (stdout and stderr are pipes: no colours). */
export function vtl(
  args: readonly string[],
  env: Record<string, string | undefined> = {}
): VtlResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: userEnv(env),
    timeout: 120_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/**
 * `vtl` without blocking this process: for tests whose daemon runs in the test process itself
 * (spawnSync would stop it from answering).
 */
export function vtlAsync(
  args: readonly string[],
  env: Record<string, string | undefined> = {}
): Promise<VtlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: userEnv(env),
      timeout: 120_000,
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
    child.once('error', reject)
    child.once('close', (code) => {
      resolve({ code, stdout, stderr })
    })
  })
}
