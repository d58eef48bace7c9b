import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseScenario } from './parse.js'
import { saveTd } from '../snapshot/td-snapshot.js'
import type { L2Cpu } from '../td/l2-cpu.js'
import { createScenarioTd } from './run.js'
import { DEFAULT_MAX_INSTRUCTIONS } from './types.js'

/** A `cpu: x86` scenario with `partition` and `steps` overridden. */
function x86(partition: string, steps = '  - { vp: 0, run: {} }'): string {
  return `version: 1
partition:
  vps: 1
  memory: 16MiB
  cpu: x86
${partition}
steps:
${steps}
`
}
const IMAGES = `  images: [{ gpa: "0x100000", hex: "f4" }, { gpa: "0x200000", file: k/vtl1.bin }]
  entry: { rip: "0x100000", rsp: "0x80000" }`

describe('partition.cpu: x86 (scenario-format.md, "Guest code")', () => {
  it('parses images (file resolved against the scenario folder, inline hex), entry and run', () => {
    const s = parseScenario(
      x86(IMAGES, '  - { vp: 0, run: { maxInstructions: 500 } }\n  - { vp: 0, run: {} }'),
      '/tmp/dir/s.yaml'
    )
    expect(s.partition).toMatchObject({
      cpu: 'x86',
      images: [
        { gpa: 0x100000n, hex: new Uint8Array([0xf4]) },
        { gpa: 0x200000n, file: resolve('/tmp/dir/k/vtl1.bin') },
      ],
      entry: { rip: 0x100000n, rsp: 0x80000n },
    })
    expect(s.steps.map((step) => step.action)).toEqual([
      { kind: 'run', maxInstructions: 500 },
      { kind: 'run', maxInstructions: DEFAULT_MAX_INSTRUCTIONS },
    ])
  })

  it.each([
    ['an unknown cpu', '  images: []', 'partition.cpu', 'cpu: arm'],
    ['no images', '  entry: { rip: 0, rsp: 0 }', 'partition.images: is required', ''],
    ['an empty image list', '  images: []\n  entry: { rip: 0, rsp: 0 }', 'needs at least one', ''],
    ['no entry', '  images: [{ gpa: 0, hex: "f4" }]', 'partition.entry: is required', ''],
    [
      'an image with file and hex',
      '  images: [{ gpa: 0, hex: "f4", file: a.bin }]\n  entry: { rip: 0, rsp: 0 }',
      'partition.images[0]: needs exactly one of file and hex',
      '',
    ],
    [
      'an image in the loader area',
      '  images: [{ gpa: "0xf00000", hex: "f4" }]\n  entry: { rip: 0, rsp: 0 }',
      "partition.images[0].gpa: is not in RAM below the loader's top 1 MiB",
      '',
    ],
    [
      'an image reaching into the loader area',
      '  images: [{ gpa: "0xefffff", hex: "f4f4" }]\n  entry: { rip: 0, rsp: 0 }',
      "partition.images[0].hex: reaches into the loader's top 1 MiB",
      '',
    ],
    [
      'overlapping images',
      '  images: [{ gpa: 0, hex: "f4f4" }, { gpa: 1, hex: "f4" }]\n  entry: { rip: 0, rsp: 0 }',
      'partition.images[1]: overlaps an earlier image',
      '',
    ],
  ])('refuses %s', (_, partition, message, replace) => {
    let text = x86(partition)
    if (replace !== '') text = text.replace('cpu: x86', replace)
    expect(() => parseScenario(text, 's.yaml')).toThrow(message)
  })

  it('refuses memory that is not whole 2 MiB pages, or more than 1 GiB', () => {
    for (const memory of ['17MiB', '2GiB']) {
      expect(() => parseScenario(x86(IMAGES).replace('16MiB', memory))).toThrow(
        'partition.memory: with cpu: x86 must be whole 2 MiB pages, at most 1 GiB'
      )
    }
  })

  it.each([
    ['a scripted action', '  - { vp: 0, hypercall: { code: 1, input: "" } }', 'steps[0].hypercall'],
    ['an eoi (the guest ends its interrupts)', '  - { vp: 0, eoi: {} }', 'steps[0].eoi'],
    ['a budget of 0', '  - { vp: 0, run: { maxInstructions: 0 } }', 'must be 1..'],
    ['an unknown run field', '  - { vp: 0, run: { max: 1 } }', 'steps[0].run'],
  ])('refuses %s in a step', (_, steps, message) => {
    expect(() => parseScenario(x86(IMAGES, steps))).toThrow(message)
  })

  it('keeps images, entry and maxInstructions to cpu: x86', () => {
    const scripted = `version: 1
partition: { vps: 1, memory: 16MiB, entry: { rip: 0, rsp: 0 } }
steps: [{ vp: 0, run: {} }]`
    expect(() => parseScenario(scripted)).toThrow('partition.entry: needs cpu: x86')
    const budget = scripted
      .replace(', entry: { rip: 0, rsp: 0 }', '')
      .replace('run: {}', 'run: { maxInstructions: 5 }')
    expect(() => parseScenario(budget)).toThrow('steps[0].run')
  })

  it('a TD for cpu: x86 without a CPU is E_UNSUPPORTED, naming what it needs', () => {
    const s = parseScenario(x86(IMAGES), 's.yaml')
    expect(() => createScenarioTd(s)).toThrow(/needs the x86 CPU backing .*libunicorn2/)
    expect(() => createScenarioTd(s)).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED' }))
  })

  it('a TD whose guests run real code is not saved in a snapshot (E_UNSUPPORTED)', () => {
    const s = parseScenario(x86(IMAGES), 's.yaml')
    const cpu = {} as L2Cpu // never entered: saving is refused before anything reads it
    const td = createScenarioTd(s, { cpu: () => cpu })
    expect(() => saveTd(td)).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED' }))
  })
})
