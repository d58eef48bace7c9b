import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { unicornAvailability } from '@vtl/x86'
import { describe, expect, it } from 'vitest'
import { MultiReportSchema } from './report-schema.js'
import { ROOT, vtl } from './vtl.js'

// The bundled x86 kernels' scenarios; their binaries are built by @vtl/x86's build (nasm).
const KERNELS = join(ROOT, 'packages', 'x86', 'kernels')
// Those whose images were built (a C kernel needs make, cc and objcopy at build time).
const scenarios = readdirSync(KERNELS)
  .filter((d) => existsSync(join(KERNELS, d, 'scenario.yaml')))
  .filter((d) => existsSync(join(KERNELS, d, 'vtl0.bin')))
  .map((d) => join(KERNELS, d, 'scenario.yaml'))
const built = existsSync(join(KERNELS, 'vtl-call', 'vtl0.bin'))
const unicorn = unicornAvailability()

describe.skipIf(!unicorn.available || !built)('vtl sim run on guest code (cpu: x86)', () => {
  it('runs the bundled kernels and every expectation holds (exit 0)', () => {
    const r = vtl(['sim', 'run', ...scenarios, '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const doc = MultiReportSchema.parse(JSON.parse(r.stdout))
    expect(doc.files).toBe(scenarios.length)
    expect(doc.failed).toBe(0)
    const vtlCall = doc.reports.find((report) => report.scenario === 'x86-vtl-call')
    expect(vtlCall?.steps[0]?.result).toMatchObject({ exitCode: 0, console: 'V0 V1 back V1 OK' })
  })
})
