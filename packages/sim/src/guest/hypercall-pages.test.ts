import { VtlError } from '@vtl/core'
import { describe, expect, it } from 'vitest'
import { parseScenario } from '../scenario/parse.js'
import { runScenario } from '../scenario/run.js'
import { ScenarioError } from '../scenario/scenario-error.js'
import { restoreTd, saveTd } from '../snapshot/td-snapshot.js'
import { SimTd } from '../td/sim-td.js'
import { DEFAULT_HYPERCALL_PAGES, hypercallPagesProblem } from './hypercall-pages.js'

const scenario = (pages: string, steps = '  - { vp: 0, getRegister: { name: VsmVpStatus } }') =>
  `version: 1\npartition: { vps: 1, memory: 1MiB${pages} }\nsteps:\n${steps}\n`

describe('hypercallPagesProblem', () => {
  it.each([
    { input: 0x0n, output: 0x1000n, problem: undefined },
    { input: 0xff000n, output: 0x0n, problem: undefined },
    {
      input: 0x800n,
      output: 0x1000n,
      problem: { field: 'input', problem: '0x800 is not 4 KiB aligned' },
    },
    {
      input: 0x0n,
      output: 0x1008n,
      problem: { field: 'output', problem: '0x1008 is not 4 KiB aligned' },
    },
    {
      input: 0x100000n,
      output: 0x1000n,
      problem: { field: 'input', problem: '0x100000 is not a page of guest RAM (0x0..0x100000)' },
    },
    {
      input: 0x0n,
      output: 0xffff_ffff_f000n,
      problem: {
        field: 'output',
        problem: '0xfffffffff000 is not a page of guest RAM (0x0..0x100000)',
      },
    },
    {
      input: 0x3000n,
      output: 0x3000n,
      problem: { field: 'output', problem: 'must be another page than the input page' },
    },
  ])('input $input, output $output', ({ input, output, problem }) => {
    expect(hypercallPagesProblem({ input, output }, 0x10_0000n)).toEqual(problem)
  })
})

describe('partition.hypercallPages', () => {
  it('is optional; either side defaults', () => {
    expect(parseScenario(scenario('')).partition.hypercallPages).toBeUndefined()
    expect(parseScenario(scenario(', hypercallPages: {}')).partition.hypercallPages).toEqual(
      DEFAULT_HYPERCALL_PAGES
    )
    expect(
      parseScenario(scenario(", hypercallPages: { output: '0x5000' }")).partition.hypercallPages
    ).toEqual({ input: 0x0n, output: 0x5000n })
  })

  it.each([
    ["{ input: '0x10' }", 'partition.hypercallPages.input', 'not 4 KiB aligned'],
    ["{ output: '0x100000' }", 'partition.hypercallPages.output', 'not a page of guest RAM'],
    ["{ input: '0x1000' }", 'partition.hypercallPages.output', 'another page than the input'],
    ["{ input: '-1' }", 'partition.hypercallPages.input', ''],
    ['{ inptu: 0 }', 'partition.hypercallPages.inptu', 'unknown field'],
    ['7', 'partition.hypercallPages', 'mapping'],
  ])('refuses %s at %s', (pages, field, message) => {
    let error: unknown
    try {
      parseScenario(scenario(`, hypercallPages: ${pages}`), 'bad.yaml')
    } catch (e) {
      error = e
    }
    expect(ScenarioError.isInstance(error)).toBe(true)
    expect((error as ScenarioError).field).toBe(field)
    expect((error as ScenarioError).message).toContain(message)
  })

  it('moves where the VMCALL finds its input and puts its output', () => {
    const report = runScenario(
      parseScenario(
        scenario(
          ", hypercallPages: { input: '0x8000', output: '0x4000' }",
          [
            "  - { vp: 0, write: { gpa: '0x0', size: 8, value: '0x5a' } }",
            '  - { vp: 0, getRegister: { name: VsmVpStatus }, expect: { value: "0x10000" } }',
            "  - { vp: 0, read: { gpa: '0x8010', size: 4 }, expect: { value: '0xd0003' } }",
            "  - { vp: 0, read: { gpa: '0x4000', size: 8 }, expect: { value: '0x10000' } }",
            "  - { vp: 0, read: { gpa: '0x0', size: 8 }, expect: { value: '0x5a' } }",
          ].join('\n')
        )
      )
    )
    expect(report.failed).toBe(0)
    expect(report.steps).toHaveLength(5)
  })
})

describe('SimTd hypercallPages', () => {
  it('refuses a pair it cannot use with a typed error naming the field', () => {
    let error: unknown
    try {
      new SimTd({ vps: 1, memory: 0x10_0000n, hypercallPages: { input: 0x0n, output: 0x0n } })
    } catch (e) {
      error = e
    }
    expect(VtlError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ code: 'E_FIELD_RANGE', field: 'hypercallPages.output' })
  })

  it('a snapshot keeps a chosen pair and leaves the default out; a bad pair is refused', () => {
    const chosen = new SimTd({
      vps: 1,
      memory: 0x10_0000n,
      hypercallPages: { input: 0x8000n, output: 0x9000n },
    })
    const saved = saveTd(chosen)
    expect(saved.options.hypercallPages).toEqual({ input: '0x8000', output: '0x9000' })
    expect(restoreTd(saved).hypercallPages).toEqual({ input: 0x8000n, output: 0x9000n })
    expect('hypercallPages' in saveTd(new SimTd({ vps: 1, memory: 0x10_0000n })).options).toBe(
      false
    )
    const bad = {
      ...saved,
      options: { ...saved.options, hypercallPages: { input: '0x8000', output: '0x8000' } },
    }
    expect(() => restoreTd(bad)).toThrow(/options\.hypercallPages\.output/)
  })
})
