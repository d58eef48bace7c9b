import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { MultiReportSchema, ReportSchema } from './report-schema.js'
import { BIN, ROOT, SCENARIOS, vtl } from './vtl.js'

const tmp = mkdtempSync(join(tmpdir(), 'vtl-cli-sim-'))
const bundled = readdirSync(SCENARIOS).filter((f) => /\.(ya?ml|json)$/.test(f))

const PASSING = `version: 1
name: tiny
seed: 3
partition: { vps: 2, memory: 8MiB }
steps:
  - vp: 0
    hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1 } }
    expect: { status: Success }
`
const FAILING = PASSING.replace('name: tiny', 'name: tiny-wrong').replace(
  'expect: { status: Success }',
  'expect: { status: AccessDenied }'
)
const INVALID = PASSING.replace('targetVtl: 1', 'targetVtl: one')

function file(name: string, text: string): string {
  const path = join(tmp, name)
  writeFileSync(path, text)
  return path
}

describe('vtl sim run', () => {
  it('runs every bundled scenario and reports every file passed (exit 0)', () => {
    expect(bundled.length).toBeGreaterThan(5)
    const r = vtl(['sim', 'run', SCENARIOS])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const rows = r.stdout.split('\n').filter((l) => l.startsWith('│ PASS '))
    expect(rows).toHaveLength(bundled.length)
    // One row per file, no separator rows between them.
    expect(r.stdout).not.toMatch(/^├/m)
    expect(r.stdout).not.toContain('FAIL')
    expect(r.stdout).toContain(`all ${bundled.length} files passed`)
  })

  it('prints one report per file with --json, each of the report shape', () => {
    const r = vtl(['sim', 'run', SCENARIOS, '--json', '--parallel', '4'])
    expect(r.code).toBe(0)
    const doc = MultiReportSchema.parse(JSON.parse(r.stdout))
    expect(doc.files).toBe(bundled.length)
    expect(doc.reports).toHaveLength(bundled.length)
    expect(doc.failed).toBe(0)
    for (const report of doc.reports) expect(report.failed).toBe(0)
  })

  it('prints exactly the scenario-format.md report for one file', () => {
    const r = vtl(['sim', 'run', file('pass.yaml', PASSING), '--json'])
    expect(r.code).toBe(0)
    const report = ReportSchema.parse(JSON.parse(r.stdout))
    expect(report).toMatchObject({ scenario: 'tiny', seed: 3, passed: 1, failed: 0 })
    expect(report.steps[0]?.result).toMatchObject({ status: 'Success' })
    expect(report.stats.hypervisorCalls).toMatchObject({ EnablePartitionVtl: 1 })
  })

  it('overrides the seed with --seed', () => {
    const r = vtl(['sim', 'run', file('seeded.yaml', PASSING), '--json', '--seed', '0x2a'])
    expect(ReportSchema.parse(JSON.parse(r.stdout)).seed).toBe(42)
  })

  it('exits 1 and names the mismatch when an expectation fails', () => {
    const path = file('fail.yaml', FAILING)
    const human = vtl(['sim', 'run', path])
    expect(human.code).toBe(1)
    expect(human.stdout).toMatch(/^FAIL tiny-wrong /m)
    expect(human.stdout).toMatch(
      /step 0 \(VP0 hypercall\): status expected "AccessDenied", got "Success"/
    )
    const json = vtl(['sim', 'run', path, '--json'])
    expect(json.code).toBe(1)
    const report = ReportSchema.parse(JSON.parse(json.stdout))
    expect(report.failed).toBe(1)
    expect(report.steps[0]?.mismatches[0]).toEqual({
      field: 'status',
      expected: 'AccessDenied',
      actual: 'Success',
    })
  })

  it('exits 1 when one of several files fails', () => {
    const r = vtl(['sim', 'run', file('ok2.yaml', PASSING), file('bad2.yaml', FAILING), '--json'])
    expect(r.code).toBe(1)
    const doc = MultiReportSchema.parse(JSON.parse(r.stdout))
    expect([doc.passed, doc.failed]).toEqual([1, 1])
    const human = vtl(['sim', 'run', file('ok3.yaml', PASSING), file('bad3.yaml', FAILING)])
    expect(human.code).toBe(1)
    expect(human.stdout).toMatch(/│ PASS │ tiny +│ +1 │ +0 │/)
    expect(human.stdout).toMatch(/│ FAIL │ tiny-wrong +│ +0 │ +1 │/)
    expect(human.stdout).toContain('bad3.yaml')
    expect(human.stdout).toContain('1 of 2 files failed')
  })

  it('exits 2 naming the file, the step and the field, and runs nothing', () => {
    const good = file('good-before-invalid.yaml', PASSING)
    const path = file('invalid.yaml', INVALID)
    const r = vtl(['sim', 'run', good, path, '--json'])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    const lines = r.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(path)
    expect(lines[0]).toContain('step 0')
    expect(lines[0]).toContain('targetVtl')
  })

  it('exits 2 for a missing path and for bad option values', () => {
    const missing = vtl(['sim', 'run', join(tmp, 'nope.yaml')])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/nope\.yaml: no such file or directory/)
    const seed = vtl(['sim', 'run', SCENARIOS, '--seed', 'abc'])
    expect(seed.code).toBe(2)
    expect(seed.stderr).toMatch(/--seed <n>.*invalid/)
    const parallel = vtl(['sim', 'run', SCENARIOS, '--parallel', '0'])
    expect(parallel.code).toBe(2)
    const unknown = vtl(['sim', 'run', SCENARIOS, '--bogus'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("unknown option '--bogus'")
  })

  it('writes a Chrome trace-event document with --trace', () => {
    const out = join(tmp, 'trace.json')
    const r = vtl(['sim', 'run', join(SCENARIOS, 'canonical-boot.yaml'), '--trace', out])
    expect(r.code).toBe(0)
    const trace = JSON.parse(readFileSync(out, 'utf8')) as {
      traceEvents: { ph: string; name: string; pid: number; cat?: string }[]
    }
    expect(trace.traceEvents.some((e) => e.ph === 'M' && e.name === 'process_name')).toBe(true)
    expect(trace.traceEvents.some((e) => e.cat === 'vtl-switch')).toBe(true)
    expect(
      trace.traceEvents.some((e) => e.cat === 'hypercall' && e.name === 'EnablePartitionVtl')
    ).toBe(true)
  })

  it('merges the traces of several files into separate processes', () => {
    const out = join(tmp, 'trace-many.json')
    const r = vtl([
      'sim',
      'run',
      file('t1.yaml', PASSING),
      file('t2.yaml', PASSING),
      '--trace',
      out,
    ])
    expect(r.code).toBe(0)
    const trace = JSON.parse(readFileSync(out, 'utf8')) as {
      traceEvents: { ph: string; name: string; pid: number; args?: { name?: string } }[]
    }
    const names = trace.traceEvents.filter((e) => e.name === 'process_name').map((e) => e.pid)
    expect(new Set(names).size).toBe(names.length)
    expect(names.length).toBeGreaterThanOrEqual(2)
  })
})

describe('vtl sim check', () => {
  it('accepts a valid file without running it (exit 0)', () => {
    const r = vtl(['sim', 'check', join(SCENARIOS, 'canonical-boot.yaml'), '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, scenario: 'canonical-boot', vps: 4 })
  })

  it('exits 2 with file, step and field for an invalid file', () => {
    const path = file('check-invalid.yaml', INVALID)
    const r = vtl(['sim', 'check', path])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(
      /^vtl: .*check-invalid\.yaml \(step 0\): steps\[0\]\.hypercall\.input\.targetVtl: /
    )
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('exits 2 for YAML that does not parse', () => {
    const r = vtl(['sim', 'check', file('broken.yaml', 'version: [1\n')])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('broken.yaml')
  })

  describe('progress on a terminal', () => {
    // A file over the 1 MiB at which a check on a terminal shows its progress.
    const steps = Array.from(
      { length: 15_000 },
      (_, i) =>
        `  - vp: 0\n    write: { gpa: 0x10000, size: 4, value: ${i} }\n    expect: { ok: true }`
    )
    const big = file(
      'big.yaml',
      `${PASSING.slice(0, PASSING.indexOf('steps:'))}steps:\n${steps.join('\n')}\n`
    )
    const hasScript = spawnSync('script', ['--version']).status === 0

    it.skipIf(!hasScript)(
      'shows the phase and the steps validated on stderr, then clears it',
      () => {
        // script(1) gives vtl a terminal; its output is what that terminal showed.
        const r = spawnSync(
          'script',
          ['-qfec', `${process.execPath} ${BIN} sim check ${big}`, '/dev/null'],
          {
            cwd: ROOT,
            encoding: 'utf8',
            env: { ...process.env, NO_COLOR: '1', COLUMNS: '120' },
            timeout: 120_000,
          }
        )
        expect(r.status).toBe(0)
        expect(r.stdout).toContain(`${big}: reading YAML`)
        expect(r.stdout).toMatch(/: \d+ of 15000 steps valid/)
        expect(r.stdout).toContain(`valid ${big}: tiny, 15000 steps on 2 VP(s)`)
      }
    )

    it('shows nothing on a pipe or with --json', () => {
      for (const args of [[], ['--json']]) {
        const r = vtl(['sim', 'check', big, ...args])
        expect(r.code).toBe(0)
        expect(r.stderr).toBe('')
      }
    })
  })
})
