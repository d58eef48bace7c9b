import { describe, expect, it } from 'vitest'
import { SAMPLE } from '../pages/scenarios.js'
import { compareExpect, parseScenarioText, splitSteps, stepsReport } from './scenario-steps.js'

describe('scenario steps for a running TD', () => {
  it('splits the sample into steps without expect, and their expectations', () => {
    const { steps, expects } = splitSteps(parseScenarioText(SAMPLE))
    expect(steps).toHaveLength(7)
    expect(steps.every((s) => !('expect' in s))).toBe(true)
    expect(expects[6]).toEqual({ status: 'InvalidVtlState' })
  })

  it('refuses a fault step and a document without steps', () => {
    const faulty =
      'version: 1\nsteps:\n  - { fault: { at: TDG.VP.WR, status: TDX_OPERAND_BUSY } }\n'
    expect(() => splitSteps(parseScenarioText(faulty))).toThrow(/step 0 arms a fault/)
    expect(() => parseScenarioText('[1, 2]')).toThrow(/mapping/)
    expect(() => parseScenarioText('version: 1\n')).toThrow(/no steps/)
  })

  it.each<[string, Record<string, unknown>, Record<string, unknown>, string[]]>([
    ['a name, exactly', { status: 'Success' }, { status: 'Success' }, []],
    ['another name', { status: 'Success' }, { status: 'InvalidVtlState' }, ['status']],
    ['hex against a number', { code: '0x51' }, { code: 81 }, []],
    ['decimal text against hex text', { value: '31' }, { value: '0x1f' }, []],
    ['a missing field', { repsCompleted: 1 }, {}, ['repsCompleted']],
    ['a nested subset', { intercept: { toVtl: 1 } }, { intercept: { toVtl: 1, kind: 'gpa' } }, []],
  ])('compares %s', (_name, expected, result, fields) => {
    expect(compareExpect(expected, result).map((m) => m.field)).toEqual(fields)
  })

  it('reports each step with its mismatches', () => {
    const report = stepsReport(
      'demo',
      [
        { index: 0, vp: 0, vtl: 0, action: 'hypercall', result: { status: 'Success' } },
        { index: 1, vp: 0, vtl: 0, action: 'vtlCall', result: { activeVtl: 0 } },
      ],
      [{ status: 'Success' }, { activeVtl: 1 }]
    )
    expect(report).toMatchObject({ scenario: 'demo', passed: 1, failed: 1 })
    expect(report.steps[1]?.mismatches).toEqual([{ field: 'activeVtl', expected: 1, actual: 0 }])
  })
})
