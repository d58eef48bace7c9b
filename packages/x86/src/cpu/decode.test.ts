import { describe, expect, it } from 'vitest'
import { decodeTrap } from './decode.js'

const decode = (hex: string) => {
  const bytes = Buffer.from(hex, 'hex')
  return decodeTrap((i) => bytes[i] ?? 0)
}

describe('decodeTrap', () => {
  it.each([
    ['0f01c1', { kind: 'vmcall', length: 3 }],
    ['f4', { kind: 'hlt', length: 1 }],
    ['0fa2', { kind: 'cpuid', length: 2 }],
    ['0f32', { kind: 'rdmsr', length: 2 }],
    ['0f30', { kind: 'wrmsr', length: 2 }],
    ['e6e9', { kind: 'io', length: 2, direction: 'out', size: 1, port: 0xe9, string: false }],
    ['e7f4', { kind: 'io', length: 2, direction: 'out', size: 4, port: 0xf4 }],
    ['66e7f4', { kind: 'io', length: 3, direction: 'out', size: 2, port: 0xf4 }],
    ['ec', { kind: 'io', length: 1, direction: 'in', size: 1, port: undefined }],
    ['ed', { kind: 'io', length: 1, direction: 'in', size: 4, port: undefined }],
    ['f36e', { kind: 'io', length: 2, direction: 'out', size: 1, string: true, rep: true }],
    ['0f22c3', { kind: 'mov-to-cr', length: 3, cr: 0, gpr: 3 }], // mov cr0, rbx
    ['0f22e0', { kind: 'mov-to-cr', length: 3, cr: 4, gpr: 0 }], // mov cr4, rax
    ['410f22e7', { kind: 'mov-to-cr', length: 4, cr: 4, gpr: 15 }], // mov cr4, r15
    ['440f22c0', { kind: 'mov-to-cr', length: 4, cr: 8, gpr: 0 }], // mov cr8, rax
    ['0f013c25', { kind: 'invlpg' }], // invlpg [abs]
  ] as const)('%s', (hex, expected) => {
    expect(decode(hex)).toMatchObject(expected)
  })

  it.each(['90', '4889c3', '0f0b', '0f01d8', 'cc', 'cd80', '0f20c0'])('%s does not exit', (hex) => {
    expect(decode(hex)).toBeUndefined()
  })
})
