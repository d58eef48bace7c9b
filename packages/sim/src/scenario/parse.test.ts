import { VtlError } from '@vtl/core'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { parseScenario, parseScenarioData } from './parse.js'
import { ScenarioError } from './scenario-error.js'

const HEAD = 'version: 1\npartition: { vps: 2, memory: 16MiB }\nsteps:\n'

/** Each bad file: the text, the step it names (undefined: outside steps) and the field. */
const CORPUS: [string, string, number | undefined, string][] = [
  ['not YAML', 'version: 1\nsteps: [\n', undefined, 'line 3'],
  ['not a mapping', '- 1\n- 2\n', undefined, '<root>'],
  [
    'version 2',
    'version: 2\npartition: { vps: 1, memory: 4096 }\nsteps: []\n',
    undefined,
    'version',
  ],
  ['missing version', 'partition: { vps: 1, memory: 4096 }\nsteps: []\n', undefined, 'version'],
  ['unknown top field', `${HEAD}  []\nextra: 1\n`, undefined, 'extra'],
  ['missing partition', 'version: 1\nsteps: []\n', undefined, 'partition'],
  [
    'vps 0',
    'version: 1\npartition: { vps: 0, memory: 4096 }\nsteps: []\n',
    undefined,
    'partition.vps',
  ],
  [
    'vps 1025',
    'version: 1\npartition: { vps: 1025, memory: 4096 }\nsteps: []\n',
    undefined,
    'partition.vps',
  ],
  [
    'memory unit',
    'version: 1\npartition: { vps: 1, memory: 64MB }\nsteps: []\n',
    undefined,
    'partition.memory',
  ],
  [
    'memory unaligned',
    'version: 1\npartition: { vps: 1, memory: 4097 }\nsteps: []\n',
    undefined,
    'partition.memory',
  ],
  [
    'gpa width',
    'version: 1\npartition: { vps: 1, memory: 4096, gpaWidth: 40 }\nsteps: []\n',
    undefined,
    'partition.gpaWidth',
  ],
  [
    'started vp out of range',
    'version: 1\npartition: { vps: 2, memory: 4096, startedVps: [2] }\nsteps: []\n',
    undefined,
    'partition.startedVps[0]',
  ],
  [
    'steps not a list',
    'version: 1\npartition: { vps: 1, memory: 4096 }\nsteps: {}\n',
    undefined,
    'steps',
  ],
  ['no action', `${HEAD}  - vp: 0\n`, 0, 'steps[0]'],
  ['two actions', `${HEAD}  - { vp: 0, run: {}, eoi: {} }\n`, 0, 'steps[0]'],
  ['vp out of range', `${HEAD}  - { vp: 0, run: {} }\n  - { vp: 2, run: {} }\n`, 1, 'steps[1].vp'],
  ['vtl 2 assertion', `${HEAD}  - { vp: 0, vtl: 2, run: {} }\n`, 0, 'steps[0].vtl'],
  ['unknown step field', `${HEAD}  - { vp: 0, run: {}, expext: {} }\n`, 0, 'steps[0].expext'],
  [
    'unknown hypercall',
    `${HEAD}  - { vp: 0, hypercall: { name: EnableEverything } }\n`,
    0,
    'steps[0].hypercall.name',
  ],
  [
    'unknown input field',
    `${HEAD}  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { targetVTL: 1 } } }\n`,
    0,
    'steps[0].hypercall.input.targetVTL',
  ],
  [
    'bad number',
    `${HEAD}  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { targetVtl: "1x" } } }\n`,
    0,
    'steps[0].hypercall.input.targetVtl',
  ],
  [
    'u8 overflow',
    `${HEAD}  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { targetVtl: 256 } } }\n`,
    0,
    'steps[0].hypercall.input.targetVtl',
  ],
  [
    'flag not boolean',
    `${HEAD}  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { flags: { enableMbec: 1 } } } }\n`,
    0,
    'steps[0].hypercall.input.flags.enableMbec',
  ],
  [
    'context field',
    `${HEAD}  - { vp: 0, hypercall: { name: EnableVpVtl, input: { vpContext: { rip: "0xzz" } } } }\n`,
    0,
    'steps[0].hypercall.input.vpContext.rip',
  ],
  [
    'context unknown register',
    `${HEAD}  - { vp: 0, hypercall: { name: EnableVpVtl, input: { vpContext: { r9: 1 } } } }\n`,
    0,
    'steps[0].hypercall.input.vpContext.r9',
  ],
  [
    'start vp without vpIndex',
    `${HEAD}  - { vp: 0, hypercall: { name: StartVirtualProcessor, input: {} } }\n`,
    0,
    'steps[0].hypercall.input.vpIndex',
  ],
  [
    'map flag name',
    `${HEAD}  - { vp: 0, hypercall: { name: ModifyVtlProtectionMask, input: { mapFlags: [RX], gpns: [1] } } }\n`,
    0,
    'steps[0].hypercall.input.mapFlags',
  ],
  [
    'gpn list missing',
    `${HEAD}  - { vp: 0, hypercall: { name: ModifyVtlProtectionMask, input: { mapFlags: 1 } } }\n`,
    0,
    'steps[0].hypercall.input.gpns',
  ],
  [
    'name and code',
    `${HEAD}  - { vp: 0, hypercall: { name: VtlCall, code: 17 } }\n`,
    0,
    'steps[0].hypercall.code',
  ],
  [
    'raw input 0x',
    `${HEAD}  - { vp: 0, hypercall: { code: 13, input: "0x00" } }\n`,
    0,
    'steps[0].hypercall.input',
  ],
  [
    'raw input odd',
    `${HEAD}  - { vp: 0, hypercall: { code: 13, input: "abc" } }\n`,
    0,
    'steps[0].hypercall.input',
  ],
  [
    'raw input not hex',
    `${HEAD}  - { vp: 0, hypercall: { code: 13, input: "zz" } }\n`,
    0,
    'steps[0].hypercall.input',
  ],
  [
    'rep count too big',
    `${HEAD}  - { vp: 0, hypercall: { code: 12, input: "", repCount: 4096 } }\n`,
    0,
    'steps[0].hypercall.repCount',
  ],
  [
    'typed with repCount',
    `${HEAD}  - { vp: 0, hypercall: { name: VtlCall, repCount: 1 } }\n`,
    0,
    'steps[0].hypercall.repCount',
  ],
  ['access size', `${HEAD}  - { vp: 0, read: { gpa: 0, size: 3 } }\n`, 0, 'steps[0].read.size'],
  [
    'gpa beyond width',
    `${HEAD}  - { vp: 0, read: { gpa: "0x1000000000000" } }\n`,
    0,
    'steps[0].read.gpa',
  ],
  ['write without value', `${HEAD}  - { vp: 0, write: { gpa: 0 } }\n`, 0, 'steps[0].write.value'],
  [
    'write value too wide',
    `${HEAD}  - { vp: 0, write: { gpa: 0, size: 1, value: 256 } }\n`,
    0,
    'steps[0].write.value',
  ],
  [
    'execute mode',
    `${HEAD}  - { vp: 0, execute: { gpa: 0, mode: supervisor } }\n`,
    0,
    'steps[0].execute.mode',
  ],
  [
    'register name',
    `${HEAD}  - { vp: 0, getRegister: { name: Rxx } }\n`,
    0,
    'steps[0].getRegister.name',
  ],
  [
    'set without value',
    `${HEAD}  - { vp: 0, setRegister: { name: Rip } }\n`,
    0,
    'steps[0].setRegister.value',
  ],
  [
    'interrupt vector',
    `${HEAD}  - { vp: 0, interrupt: { vector: 300, vtl: 1 } }\n`,
    0,
    'steps[0].interrupt.vector',
  ],
  [
    'fault leaf',
    `${HEAD}  - { vp: 0, fault: { at: TDG.MEM.PAGE.FROB, status: TDX_OPERAND_BUSY } }\n`,
    0,
    'steps[0].fault.at',
  ],
  [
    'fault status',
    `${HEAD}  - { vp: 0, fault: { at: TDG.VP.WR, status: TDX_SOMETIMES } }\n`,
    0,
    'steps[0].fault.status',
  ],
  [
    'fault hv status',
    `${HEAD}  - { vp: 0, fault: { at: EnableVpVtl, status: Nope } }\n`,
    0,
    'steps[0].fault.status',
  ],
  ['io port range', `${HEAD}  - { vp: 0, io: { port: 0x10000 } }\n`, 0, 'steps[0].io.port'],
  ['io size 8', `${HEAD}  - { vp: 0, io: { port: 1, size: 8 } }\n`, 0, 'steps[0].io.size'],
  [
    'io IN with a value',
    `${HEAD}  - { vp: 0, io: { port: 1, value: 1 } }\n`,
    0,
    'steps[0].io.value',
  ],
  [
    'io OUT value too wide',
    `${HEAD}  - { vp: 0, io: { port: 1, write: true, size: 2, value: 0x10000 } }\n`,
    0,
    'steps[0].io.value',
  ],
  ['writeCr cr3', `${HEAD}  - { vp: 0, writeCr: { cr: 3, value: 0 } }\n`, 0, 'steps[0].writeCr.cr'],
  ['writeCr no value', `${HEAD}  - { vp: 0, writeCr: { cr: 0 } }\n`, 0, 'steps[0].writeCr.value'],
  ['msr name', `${HEAD}  - { vp: 0, msr: { msr: Lstarr } }\n`, 0, 'steps[0].msr.msr'],
  ['msr number', `${HEAD}  - { vp: 0, msr: { msr: '0x100000000' } }\n`, 0, 'steps[0].msr.msr'],
  [
    'expect field',
    `${HEAD}  - { vp: 0, run: {}, expect: { stauts: Success } }\n`,
    0,
    'steps[0].expect.stauts',
  ],
  [
    'expect status typo',
    `${HEAD}  - { vp: 0, run: {}, expect: { status: Sucess } }\n`,
    0,
    'steps[0].expect.status',
  ],
  [
    'expect intercept status typo',
    `${HEAD}  - { vp: 0, run: {}, expect: { interceptStatus: invalidsynicstate } }\n`,
    0,
    'steps[0].expect.interceptStatus',
  ],
  [
    'expect exception in lower case',
    `${HEAD}  - { vp: 0, vtlCall: {}, expect: { exception: ud } }\n`,
    0,
    'steps[0].expect.exception',
  ],
  [
    'later step',
    `${HEAD}  - { vp: 0, run: {} }\n  - { vp: 0, run: {} }\n  - { vp: 0, vtlCall: { input: -1 } }\n`,
    2,
    'steps[2].vtlCall.input',
  ],
]

describe('malformed scenarios', () => {
  it.each(CORPUS)('%s', (_what, text, step, field) => {
    let error: unknown
    try {
      parseScenario(text, 'bad.yaml')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ScenarioError)
    const e = error as ScenarioError
    expect(VtlError.isInstance(e)).toBe(true)
    expect(ScenarioError.isInstance(e)).toBe(true)
    expect(ScenarioError.isInstance(new VtlError('E_SCENARIO', 'not from the parser'))).toBe(false)
    expect(e.code).toBe('E_SCENARIO')
    expect(e.file).toBe('bad.yaml')
    expect(e.step).toBe(step)
    expect(e.field === field || (field === '<root>' && e.field === '')).toBe(true)
    expect(e.message).toContain('bad.yaml')
    if (step !== undefined) expect(e.message).toContain(`(step ${step})`)
    expect(e.message).toContain(field)
    // The message is made of the structured parts, so a caller can rebuild it placed elsewhere.
    const where = step === undefined ? '' : ` (step ${step})`
    expect(e.problem).not.toBe('')
    expect(e.message).toBe(`bad.yaml${where}: ${e.field || '<root>'}: ${e.problem}`)
  })

  it('names the status or exception meant (§ Expectations: names compare exactly)', () => {
    expect(() =>
      parseScenario(`${HEAD}  - { vp: 0, run: {}, expect: { status: Sucess } }\n`, 'x.yaml')
    ).toThrow("steps[0].expect.status: unknown HvStatus name 'Sucess' (did you mean Success?)")
    expect(() =>
      parseScenario(`${HEAD}  - { vp: 0, vtlCall: {}, expect: { exception: ud } }\n`, 'x.yaml')
    ).toThrow("unknown exception 'ud' (one of UD, DF, GP, PF, MC; did you mean UD?)")
    const ok = parseScenario(
      `${HEAD}  - { vp: 0, vtlCall: {}, expect: { exception: UD, status: '0x5' } }\n`,
      'x.yaml'
    )
    expect(ok.steps[0]?.expect).toEqual({ exception: 'UD', status: '0x5' })
  })

  it('parseScenarioData validates parsed data exactly as parseScenario validates its text', () => {
    const json = JSON.stringify({
      version: 1,
      partition: { vps: 2, memory: '16MiB' },
      steps: [
        { vp: 0, hypercall: { name: 'EnablePartitionVtl', input: { targetVtl: 1 } } },
        { vp: 1, write: { gpa: '0x1000', size: 8, value: 7 } },
      ],
    })
    expect(parseScenarioData(JSON.parse(json), 'x.json')).toEqual(parseScenario(json, 'x.json'))
    for (const [, text, step, field] of CORPUS.slice(1)) {
      let data: unknown
      try {
        data = parseYaml(text, { uniqueKeys: true })
      } catch {
        continue
      }
      expect(() => parseScenarioData(data, 'bad.yaml')).toThrow(
        expect.objectContaining({
          code: 'E_SCENARIO',
          step,
          field: field === '<root>' ? '' : field,
        })
      )
    }
  })

  it('nothing runs: a file bad in its last step fails before any TD exists', () => {
    const text = `${HEAD}  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: {} } }\n  - { vp: 9, run: {} }\n`
    expect(() => parseScenario(text, 'x.yaml')).toThrow(/x\.yaml \(step 1\): steps\[1\]\.vp/)
  })

  it('accepts JSON (JSON is YAML), numbers as decimal or 0x strings', () => {
    const json = JSON.stringify({
      version: 1,
      name: 'json',
      partition: { vps: '2', memory: '0x1000000', gpaWidth: 52 },
      steps: [
        { vp: '0x1', read: { gpa: '4096', size: '4' } },
        { vp: 0, hypercall: { code: '0x0d', input: '00 11 22 33' } },
      ],
    })
    const scenario = parseScenario(json, 'a.json')
    expect(scenario.partition).toEqual({
      vps: 2,
      memory: 0x1000000n,
      gpaWidth: 52,
      mbecCapable: true,
      startedVps: undefined,
      cpu: 'scripted',
      images: [],
      entry: undefined,
    })
    expect(scenario.steps[0]).toMatchObject({
      vp: 1,
      action: { kind: 'read', gpa: 4096n, size: 4 },
    })
    expect(scenario.steps[1]?.action).toMatchObject({
      kind: 'hypercall',
      call: { kind: 'raw', code: 13, input: new Uint8Array([0, 0x11, 0x22, 0x33]) },
    })
  })
})

describe('parse progress', () => {
  it('reports the YAML phase, then the steps validated every 1000 and at the end', () => {
    const steps = Array.from({ length: 2500 }, () => '  - { vp: 0, run: {} }').join('\n')
    const seen: unknown[] = []
    const scenario = parseScenario(`${HEAD}${steps}\n`, 'big.yaml', {
      onProgress: (p) => seen.push(p),
    })
    expect(scenario.steps).toHaveLength(2500)
    expect(seen).toEqual([
      { phase: 'yaml' },
      { phase: 'steps', done: 0, total: 2500 },
      { phase: 'steps', done: 1000, total: 2500 },
      { phase: 'steps', done: 2000, total: 2500 },
      { phase: 'steps', done: 2500, total: 2500 },
    ])
  })

  it('stops reporting at the step that is not valid', () => {
    const seen: unknown[] = []
    expect(() =>
      parseScenario(`${HEAD}  - { vp: 0, run: {} }\n  - { vp: 9, run: {} }\n`, 'bad.yaml', {
        onProgress: (p) => seen.push(p),
      })
    ).toThrow(ScenarioError)
    expect(seen).toEqual([{ phase: 'yaml' }, { phase: 'steps', done: 0, total: 2 }])
  })
})
