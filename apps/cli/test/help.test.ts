import { describe, expect, it } from 'vitest'
import { vtl } from './vtl.js'

const COMMANDS = [
  [],
  ['demo'],
  ['sim'],
  ['sim', 'run'],
  ['sim', 'check'],
  ['daemon'],
  ['daemon', 'start'],
  ['daemon', 'status'],
  ['daemon', 'stop'],
  ['td', 'create'],
  ['td', 'list'],
  ['td', 'show'],
  ['td', 'delete'],
  ['td', 'save'],
  ['td', 'restore'],
  ['td', 'step'],
  ['guest'],
  ['guest', 'vtl-call'],
  ['guest', 'read'],
  ['guest', 'interrupt'],
  ['reg', 'get'],
  ['reg', 'set'],
  ['vsm', 'enable-partition'],
  ['vsm', 'enable-vp'],
  ['vsm', 'start-vp'],
  ['vsm', 'config'],
  ['vsm', 'status'],
  ['mem', 'protect'],
  ['mem', 'share'],
  ['mem', 'unshare'],
  ['mem', 'show'],
  ['hypercall'],
  ['trace'],
  ['ui'],
  ['probe'],
  ['bench'],
  ['completion'],
]

describe('--help', () => {
  it.each(COMMANDS.map((c) => [c.join(' ') || '(program)', c] as const))(
    'vtl %s --help',
    (_name, args) => {
      const r = vtl([...args, '--help'], { COLUMNS: '100' })
      expect(r.code).toBe(0)
      expect(r.stderr).toBe('')
      expect(r.stdout).toMatch(/^Usage: vtl/)
      const leaf =
        args.length === 2 ||
        ['demo', 'hypercall', 'trace', 'probe', 'bench', 'completion'].includes(args[0] ?? '')
      if (leaf || args.length === 0) expect(r.stdout).toMatch(/Examples?:\n {2}\$ vtl /)
      expect(r.stdout).toMatchSnapshot()
    }
  )

  it('documents in-process concurrency for --parallel', () => {
    expect(vtl(['sim', 'run', '--help']).stdout).toMatch(/share this process/)
  })

  it('prints the version', () => {
    const r = vtl(['--version'])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('0.0.0\n')
  })

  it('exits 2 for an unknown command, with a suggestion', () => {
    const r = vtl(['dmeo'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("unknown command 'dmeo'")
    expect(r.stderr).toContain('demo')
  })
})
