import { unicornAvailability } from '@vtl/x86'
import { describe, expect, it } from 'vitest'
import { runScenarioText } from '../src/scenario-run.js'

const unicorn = unicornAvailability()

// VTL0 code: OUT 0xE9 of 'A', then a 32-bit OUT 0xF4 of 7 (mov al,0x41; out 0xe9,al;
// mov eax,7; out 0xf4,eax).
const CODE = 'b041e6e9b807000000e7f4'
const scenario = (image: string) => `version: 1
partition:
  vps: 1
  memory: 16MiB
  cpu: x86
  images: [${image}]
  entry: { rip: "0x100000", rsp: "0x80000" }
steps:
  - { vp: 0, run: { maxInstructions: 100 }, expect: { exitCode: 7, console: A } }
`

describe('scenario runs of guest code (cpu: x86) on the daemon', () => {
  it.skipIf(!unicorn.available)('run inline images on the x86 CPU', () => {
    const report = runScenarioText(scenario(`{ gpa: "0x100000", hex: "${CODE}" }`))
    expect(report.steps[0]?.result).toMatchObject({ exitCode: 7, console: 'A', instructions: 4 })
    expect(report.failed).toBe(0)
  })

  it("refuse image files: a request never reads the host's files", () => {
    expect(() => runScenarioText(scenario('{ gpa: "0x100000", file: /etc/hostname }'))).toThrow(
      expect.objectContaining({
        code: 'E_SCENARIO',
        message: 'request: partition.images[0].file: the daemon takes inline images (hex) only',
      })
    )
  })
})
