import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

// The end-to-end tests run the built `vtl`. CI builds before testing; a developer may not have:
// build the packages the CLI imports when a dist is missing or older than its sources (a stale
// dist lacks exports the CLI's new code imports), and the CLI likewise.
const cli = fileURLToPath(new URL('..', import.meta.url))
const root = join(cli, '..', '..')

function newest(dir: string): number {
  let t = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    t = Math.max(t, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return t
}

export default function setup(): void {
  const stale = ['core', 'memory', 'memory-map', 'sim', 'tdx-hw'].some((p) => {
    const dist = join(root, 'packages', p, 'dist', 'index.js')
    return !existsSync(dist) || statSync(dist).mtimeMs < newest(join(root, 'packages', p, 'src'))
  })
  if (stale) {
    try {
      execFileSync(
        join(root, 'node_modules', '.bin', 'turbo'),
        ['run', 'build', '--filter=@vtl/cli^...'],
        {
          cwd: root,
          stdio: 'inherit',
          env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
        }
      )
    } catch {
      // A declaration-only failure elsewhere still leaves the JavaScript the CLI needs.
    }
  }
  const tsup = join(root, 'node_modules', '.bin', 'tsup')
  const main = join(cli, 'dist', 'main.js')
  if (!existsSync(main) || statSync(main).mtimeMs < newest(join(cli, 'src'))) {
    execFileSync(tsup, [], { cwd: cli, stdio: 'inherit' })
  }
  // `vtl daemon start` runs the daemon's built bin: rebuild it when its sources are newer.
  const daemon = join(root, 'apps', 'daemon')
  const vtld = join(daemon, 'dist', 'main.js')
  if (!existsSync(vtld) || statSync(vtld).mtimeMs < newest(join(daemon, 'src'))) {
    try {
      execFileSync(tsup, [], { cwd: daemon, stdio: 'inherit' })
    } catch {
      // The daemon tests report their own build errors; the CLI's daemon tests then fail too.
    }
  }
}
