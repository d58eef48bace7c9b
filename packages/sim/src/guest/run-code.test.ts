import { describe, expect, it } from 'vitest'
import { SimTd } from '../td/sim-td.js'
import { codeStep } from './run-code.js'
import { guestStep } from './perform.js'

describe('codeStep', () => {
  it('answers each step with its own object: a kept answer survives the next step', () => {
    const td = new SimTd({ vps: 2, memory: 8n << 20n })
    const first = codeStep(td, 0, { kind: 'interrupt', vtl: 0, vector: 0x30 }, false)
    const kept = structuredClone(first)
    const second = codeStep(td, 1, { kind: 'interrupt', vtl: 0, vector: 0x31 }, false)
    expect(second).not.toBe(first)
    expect(second.outcome).not.toBe(first.outcome)
    expect(first).toEqual(kept)
  })
})

describe('guestStep', () => {
  it('answers each step with its own object, on the scripted path too', () => {
    const td = new SimTd({ vps: 1, memory: 8n << 20n })
    const first = guestStep(td, 0, { kind: 'read', gpa: 0x1000n, size: 8 }, false)
    const kept = structuredClone(first)
    const second = guestStep(td, 0, { kind: 'write', gpa: 0x1000n, size: 8, value: 0x1234n }, false)
    expect(second).not.toBe(first)
    expect(first).toEqual(kept)
  })
})
