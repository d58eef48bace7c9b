import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SCENARIOS, vtl } from './vtl.js'

const tmp = mkdtempSync(join(tmpdir(), 'vtl-cli-cmd-'))

const TOP = [
  'demo',
  'sim',
  'daemon',
  'td',
  'vsm',
  'mem',
  'hypercall',
  'trace',
  'probe',
  'bench',
  'completion',
]

describe('vtl mem show --scenario', () => {
  it('draws the final memory of a scenario as SVG and lists its runs', () => {
    const svg = join(tmp, 'canonical.svg')
    const r = vtl([
      'mem',
      'show',
      '--scenario',
      join(SCENARIOS, 'canonical-boot.yaml'),
      '--svg',
      svg,
    ])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('canonical-boot')
    expect(r.stdout).toContain('0x10000')
    const text = readFileSync(svg, 'utf8')
    expect(text.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    // canonical-boot leaves page 0x10 readable only for VTL0: a run of its own.
    expect(text).toContain('data-start="0x10000" data-end="0x11000"')
    expect(text).toContain('class="legend"')
  })

  it('prints the runs as JSON in the schema of mem show --td (vtld’s memory runs)', () => {
    const r = vtl(['mem', 'show', '--scenario', join(SCENARIOS, 'canonical-boot.yaml'), '--json'])
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout) as { runs: unknown[] }
    expect(Object.keys(doc)).toEqual(['scenario', 'start', 'end', 'runs'])
    expect(doc).toMatchObject({ scenario: 'canonical-boot', start: '0x0', end: '0x4000000' })
    expect(doc.runs).toContainEqual({
      start: '0x10000',
      size: '0x1000',
      kind: 'ram',
      visibility: 'private',
      accepted: true,
      locked: false,
      vtl0: 'r---',
      vtl1: 'rwxu',
      overlay: { vtl0: false, vtl1: false },
    })
    const text = vtl(['mem', 'show', '--scenario', join(SCENARIOS, 'canonical-boot.yaml')])
    expect(text.stdout).toMatch(/│ 0x10000 +│ 0x11000 +│ 4KiB +│ ram +│ private +│ r--- +│ rwxu +│/)
  })

  it('needs --td or --scenario (exit 2)', () => {
    const r = vtl(['mem', 'show'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--td <id>')
  })
})

describe('vtl probe', () => {
  it('prints a readable report, and JSON with --json', () => {
    const human = vtl(['probe'])
    expect(human.code).toBe(0)
    expect(human.stdout.length).toBeGreaterThan(40)
    const json = vtl(['probe', '--json'])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toHaveProperty('kvm')
    // Whether guest code (partition.cpu: x86) can run here, and why not.
    const x86Cpu = (JSON.parse(json.stdout) as { x86Cpu: { available: boolean } }).x86Cpu
    expect(x86Cpu).toHaveProperty(x86Cpu.available ? 'version' : 'reason')
    expect(human.stdout).toContain('x86 guest CPU (partition.cpu: x86):')
  })
})

describe('vtl bench --from', () => {
  const doc = {
    version: 1,
    machine: { cpus: 2, cpuModel: 'Test CPU', node: 'v20.20.2', os: 'linux x64' },
    startedAt: '2026-11-26T10:00:00Z',
    results: [
      {
        id: 'sim.vtl-round-trip',
        value: 1250000,
        unit: 'ops/s',
        better: 'higher',
        baseline: { id: 'sim.empty-dispatch', value: 9800000, unit: 'ops/s' },
        ratio: 0.1276,
        target: { value: 1000000, unit: 'ops/s' },
        samples: 10,
        rme: 0.021,
      },
      {
        id: 'sim.boot-1024',
        value: 120,
        unit: 'ms',
        better: 'lower',
        target: { value: 100, unit: 'ms' },
        samples: 5,
        rme: 0.05,
      },
      {
        id: 'memory.bytes-per-fragment',
        value: 24,
        unit: 'B',
        better: 'lower',
        samples: 1,
        rme: 0,
      },
    ],
  }
  const file = join(tmp, 'results.json')
  writeFileSync(file, JSON.stringify(doc))

  it('marks each figure against its target', () => {
    // Wide enough for a row per line; in 80 columns the cells wrap.
    const r = vtl(['bench', '--from', file], { COLUMNS: '200' })
    expect(r.code).toBe(0)
    const narrow = vtl(['bench', '--from', file])
    expect(Math.max(...narrow.stdout.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80)
    expect(narrow.stdout).toContain('1 met, 1 missed, 1 without a target')
    const line = (id: string): string => r.stdout.split('\n').find((l) => l.includes(id)) ?? ''
    expect(line('sim.vtl-round-trip')).toMatch(/1,250,000 ops\/s.*≥ 1,000,000 ops\/s.*met/)
    expect(line('sim.boot-1024')).toMatch(/120 ms.*≤ 100 ms.*missed/)
    expect(r.stdout).toContain('1 met, 1 missed, 1 without a target')
  })

  it('prints the document itself with --json', () => {
    const r = vtl(['bench', '--from', file, '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual(doc)
  })

  it('rejects a file that is not a results document (exit 2)', () => {
    const bad = join(tmp, 'bad.json')
    writeFileSync(bad, JSON.stringify({ version: 2 }))
    const r = vtl(['bench', '--from', bad])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('not a bench results document (version must be 1)')
  })
})

describe('vtl completion', () => {
  it.each(['bash', 'zsh', 'fish'])('generates %s completion naming every command', (shell) => {
    const r = vtl(['completion', shell])
    expect(r.code).toBe(0)
    for (const name of TOP) expect(r.stdout).toContain(name)
    expect(r.stdout).toContain('enable-partition')
    expect(r.stdout).toContain('parallel')
  })

  it('writes a bash script that bash accepts and that completes subcommands', () => {
    const script = join(tmp, 'vtl.bash')
    writeFileSync(script, vtl(['completion', 'bash']).stdout)
    const out = execFileSync(
      'bash',
      [
        '-c',
        `source ${script}; COMP_WORDS=(vtl vsm en); COMP_CWORD=2; _vtl; echo "\${COMPREPLY[@]}"; COMP_WORDS=(vtl sim run --p); COMP_CWORD=3; _vtl; echo "\${COMPREPLY[@]}"`,
      ],
      { encoding: 'utf8' }
    )
    expect(out.split('\n').slice(0, 2)).toEqual(['enable-partition enable-vp', '--parallel'])
  })

  it.each([
    ['the files after sim run', ['sim', 'run', 'canonical-b'], 'canonical-boot.yaml'],
    [
      'the files after sim check, past other files',
      ['sim', 'check', 'x.yaml', 'canonical-b'],
      'canonical-boot.yaml',
    ],
    ['a file for --trace', ['sim', 'run', '--trace', 'canonical-b'], 'canonical-boot.yaml'],
    ['a file for td restore', ['td', 'restore', 'canonical-b'], 'canonical-boot.yaml'],
    ['nothing for a number', ['vsm', 'enable-vp', '--vp', ''], ''],
    ['flags when a flag is typed', ['sim', 'run', '--se'], '--seed'],
  ])('bash completes %s', (_name, typed, expected) => {
    const script = join(tmp, 'vtl.bash')
    writeFileSync(script, vtl(['completion', 'bash']).stdout)
    const words = ['vtl', ...typed].map((w) => `'${w}'`).join(' ')
    const out = execFileSync(
      'bash',
      [
        '-c',
        `source ${script}; COMP_WORDS=(${words}); COMP_CWORD=${typed.length}; _vtl; echo "\${COMPREPLY[@]}"`,
      ],
      { encoding: 'utf8', cwd: SCENARIOS }
    )
    expect(out.trim()).toBe(expected)
  })

  it.each([
    ['zsh', ['-n']],
    ['fish', ['-n']],
  ] as const)('writes a %s script that the shell parses (when it is installed)', (shell, flags) => {
    const found = spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0
    if (!found) return
    const script = join(tmp, `vtl.${shell}`)
    writeFileSync(script, vtl(['completion', shell]).stdout)
    const r = spawnSync(shell, [...flags, script], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
  })

  it('rejects an unknown shell (exit 2)', () => {
    const r = vtl(['completion', 'tcsh'])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe('vtl: unknown shell "tcsh": expected bash, zsh or fish\n')
  })
})
