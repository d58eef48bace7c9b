import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BIN, CLI_DIR, ROOT } from './vtl.js'
import { spawnSync } from 'node:child_process'

// The README's examples, run as written: the daemon walk-through in order against a real vtld
// started by its own first line (exit 0 each, or the exit code its comment names), and every
// example of the command table (those without a daemon run; the daemon ones must pass their flag
// checks and stop only at the missing daemon, exit 3).

const readme = readFileSync(join(CLI_DIR, 'README.md'), 'utf8')
const tmp = mkdtempSync(join(tmpdir(), 'vtl-readme-'))
// Relative paths in the examples are the repository's; run in a folder that has them.
symlinkSync(join(ROOT, 'packages'), join(tmp, 'packages'))
const env = {
  ...process.env,
  NO_COLOR: undefined,
  XDG_RUNTIME_DIR: join(tmp, 'run'),
  XDG_STATE_HOME: join(tmp, 'state'),
}
mkdirSync(env.XDG_RUNTIME_DIR, { mode: 0o700 })

/** Runs one `vtl …` command line (shell words, no quoting beyond "…") in `tmp`. */
function run(line: string): { code: number | null; stdout: string; stderr: string } {
  const words = [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '')
  expect(words[0]).toBe('vtl')
  const r = spawnSync(process.execPath, [BIN, ...words.slice(1)], {
    cwd: tmp,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** The command lines of a code block: comments dropped, `&&` chains split. */
function commands(block: string): { line: string; code: number }[] {
  return block
    .split('\n')
    .filter((l) => l.startsWith('vtl '))
    .flatMap((l) => {
      const [text = '', comment = ''] = l.split(/\s+#\s/)
      const code = /exit (\d)/.exec(comment)?.[1]
      return text.split('&&').map((c) => ({ line: c.trim(), code: Number(code ?? 0) }))
    })
}

describe('apps/cli/README.md examples', () => {
  it('the daemon walk-through runs as written', () => {
    const block = /## The daemon[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
    const steps = /```yaml\n(steps:[\s\S]*?)```/.exec(readme)?.[1]
    expect(steps).toBeDefined()
    writeFileSync(join(tmp, 'steps.yaml'), steps ?? '')
    const lines = commands(block)
    expect(lines.length).toBeGreaterThan(10)
    try {
      for (const { line, code } of lines) {
        // Following a trace waits for Ctrl-C: the vtld e2e test drives that one.
        if (line.includes('--follow')) continue
        const r = run(line)
        expect({ line, code: r.code, stderr: r.stderr }).toEqual({ line, code, stderr: '' })
      }
    } finally {
      run('vtl daemon stop')
    }
  })

  it('every example of the command table passes its checks', () => {
    const table = readme.slice(readme.indexOf('## Commands'), readme.indexOf('## The daemon'))
    const examples = [...table.matchAll(/\| `(vtl [^`]*)`\s*\|\s*$/gm)].map((m) => m[1] ?? '')
    expect(examples.length).toBeGreaterThan(15)
    mkdirSync(join(tmp, 'bench'), { recursive: true })
    writeFileSync(
      join(tmp, 'bench', 'results.json'),
      JSON.stringify({
        version: 1,
        machine: { cpus: 2, cpuModel: 'x', node: 'v20', os: 'linux' },
        startedAt: '2026-01-01T00:00:00Z',
        results: [],
      })
    )
    // `vtl daemon start` is the walk-through's first line; here no daemon runs.
    for (const example of examples.filter((e) => e !== 'vtl daemon start')) {
      // A redirection is the shell's: run the command, check it prints.
      const line = example.split(' > ')[0] ?? ''
      // Without a daemon these exit 3; `vtl ui` asks vtld for its link before it listens.
      const daemon = /--td |vtl td |vtl daemon (stop|status)|vtl ui /.test(line)
      const r = run(line)
      expect({ line, code: r.code }).toEqual({ line, code: daemon ? 3 : 0 })
    }
  })
})
