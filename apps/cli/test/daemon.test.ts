import { describe, expect, it } from 'vitest'
import { vtl } from './vtl.js'

const STATEFUL: string[][] = [
  ['td', 'create', '--vps', '4', '--memory', '64MiB'],
  ['td', 'list'],
  ['td', 'show', 'demo'],
  ['td', 'delete', 'demo'],
  ['td', 'save', 'demo', '-o', 'demo.json'],
  ['td', 'restore', 'demo.json'],
  ['vsm', 'enable-partition', '--td', 'demo'],
  ['vsm', 'enable-vp', '--td', 'demo', '--target-vp', '1', '--rip', '0x100000'],
  ['vsm', 'start-vp', '--td', 'demo', '--target-vp', '1'],
  ['vsm', 'config', '--td', 'demo', '--set', '0x1f'],
  ['vsm', 'status', '--td', 'demo'],
  ['mem', 'protect', '--td', 'demo', '--gpa', '0x10000', '--flags', 'R'],
  ['mem', 'share', '--td', 'demo', '--gpa', '0x20000', '--size', '8KiB'],
  ['mem', 'unshare', '--td', 'demo', '--gpa', '0x20000'],
  ['mem', 'show', '--td', 'demo'],
  ['hypercall', '0x0d', '00', '--td', 'demo'],
  ['trace', '--td', 'demo'],
  ['trace', '--td', 'demo', '--follow'],
  ['daemon', 'status'],
  ['daemon', 'stop'],
]

describe('stateful commands without vtld', () => {
  it.each(STATEFUL.map((args) => [args.join(' '), args] as const))(
    'vtl %s says in one line that no daemon is reachable (exit 3)',
    (_name, args) => {
      const r = vtl([...args], { XDG_RUNTIME_DIR: '/run/user/4242' })
      expect(r.stdout).toBe('')
      expect(r.stderr).toBe(
        'vtl: no vtld daemon is reachable at /run/user/4242/vtld.sock (start vtld, or pass --socket PATH)\n'
      )
      expect(r.code).toBe(3)
    }
  )

  it('uses /tmp/vtld-<uid>/vtld.sock without XDG_RUNTIME_DIR, and --socket over both', () => {
    const fallback = vtl(['td', 'list'], { XDG_RUNTIME_DIR: undefined })
    expect(fallback.stderr).toContain(`/tmp/vtld-${process.getuid?.() ?? 0}/vtld.sock`)
    const explicit = vtl(['--socket', '/srv/v.sock', 'td', 'list'], { XDG_RUNTIME_DIR: '/run/x' })
    expect(explicit.stderr).toContain('at /srv/v.sock ')
    expect(explicit.code).toBe(3)
  })

  it('checks input before talking to the daemon (exit 2)', () => {
    const r = vtl(['vsm', 'config', '--td', 'demo', '--set', '0x1ffffffffffffffff'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--set <u64>.*invalid/)
    const flags = vtl(['mem', 'protect', '--td', 'demo', '--gpa', '0x1000', '--flags', 'RWX'])
    expect(flags.code).toBe(2)
    const missing = vtl(['vsm', 'status'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("required option '--td <id>' not specified")
  })

  it('--verbose adds the cause chain', () => {
    const quiet = vtl(['bench', '--from', '/nonexistent/results.json'])
    expect(quiet.code).toBe(2)
    expect(quiet.stderr).toBe('vtl: /nonexistent/results.json: cannot read\n')
    const verbose = vtl(['--verbose', 'bench', '--from', '/nonexistent/results.json'])
    expect(verbose.code).toBe(2)
    expect(verbose.stderr).toMatch(/caused by: \[ENOENT\] ENOENT: no such file or directory/)
  })
})
