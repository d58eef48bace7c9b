import { describe, expect, it } from 'vitest'
import { ReportSchema } from './report-schema.js'
import { vtl } from './vtl.js'

describe('vtl demo', () => {
  const r = vtl(['demo'])

  it('exits 0 with nothing on stderr', () => {
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
  })

  it('prints a timeline of the canonical boot: VTL1 enable, protections, the intercept', () => {
    expect(r.stdout).toContain('▶ canonical-boot 4 VP(s), 64MiB')
    expect(r.stdout).toMatch(/✓ +[\d.]+ µs {2}VP0 VTL0 {2}hypercall EnablePartitionVtl → Success/)
    expect(r.stdout).toMatch(/VP0 VTL1 {2}hypercall ModifyVtlProtectionMask → Success/)
    expect(r.stdout).toContain('intercept: GPA write at 0x10000 → VTL1')
    expect(r.stdout).toContain('VTL0->VTL1')
    expect(r.stdout).not.toContain('✗')
  })

  it('ends with a summary table of hypercalls, VTL switches, TDCALLs and simulated cost, in 80 columns', () => {
    const summary = r.stdout.slice(r.stdout.indexOf('Summary'))
    for (const head of ['scenario', 'calls', 'switches', 'TDCALLs', 'sim µs']) {
      expect(summary).toContain(head)
    }
    const row = summary.split('\n').find((l) => l.includes('canonical-boot'))
    expect(row).toMatch(/│ canonical-boot +│ +17\/17 │ +5 │ +5 │ +178 │ +[\d.]+ │/)
    const table = summary.split('\n').filter((l) => /^[┌│└]/.test(l))
    expect(Math.max(...table.map((l) => l.length))).toBeLessThanOrEqual(80)
    expect(summary).not.toMatch(/^├/m)
  })

  it('fits every line in 80 columns off a terminal, or in $COLUMNS', () => {
    const widest = (text: string): number => Math.max(...text.split('\n').map((l) => l.length))
    expect(widest(r.stdout)).toBeLessThanOrEqual(80)
    const narrow = vtl(['demo'], { COLUMNS: '60' })
    expect(narrow.code).toBe(0)
    expect(widest(narrow.stdout)).toBeLessThanOrEqual(60)
    // A long step line wraps under its action, JSON between its fields.
    expect(narrow.stdout).toMatch(
      /VP0 VTL0 {2}write 4 B at 0x10000 = 0xdeadbeef →\n {25}ok=false intercept=\{"toVtl":1,\n {25}"accessType"/
    )
  })

  it('prints summaries and reports with --json', () => {
    const j = vtl(['demo', '--json'])
    expect(j.code).toBe(0)
    const doc = JSON.parse(j.stdout) as {
      scenarios: { summary: { vtlSwitches: number }; report: unknown }[]
    }
    expect(doc.scenarios.length).toBeGreaterThanOrEqual(3)
    for (const s of doc.scenarios) {
      const report = ReportSchema.parse(s.report)
      expect(report.failed).toBe(0)
      expect(s.summary.vtlSwitches).toBe(report.stats.vtlSwitches)
    }
  })
})
