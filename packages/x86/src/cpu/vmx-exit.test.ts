import { describe, expect, it } from 'vitest'
import { toVmxExit } from './vmx-exit.js'
import type { X86Exit } from './x86-exit.js'

const at = { rip: 0x1000n }

describe('toVmxExit (SDM Vol. 3C §28.2.1, Table C-1)', () => {
  it.each<[string, X86Exit, object]>([
    ['VMCALL', { kind: 'vmcall', ...at, length: 3 }, { reason: 18, instructionLength: 3 }],
    ['HLT', { kind: 'hlt', ...at, length: 1, interruptsEnabled: false }, { reason: 12 }],
    ['CPUID', { kind: 'cpuid', ...at, length: 2, leaf: 1, subleaf: 0 }, { reason: 10 }],
    ['RDMSR', { kind: 'rdmsr', ...at, length: 2, msr: 0x10 }, { reason: 31 }],
    ['WRMSR', { kind: 'wrmsr', ...at, length: 2, msr: 0x10, value: 1n }, { reason: 32 }],
    [
      'OUT imm8, AL',
      {
        kind: 'io',
        ...at,
        length: 2,
        direction: 'out',
        port: 0xe9,
        size: 1,
        value: 0x41,
        string: false,
        rep: false,
        immediate: true,
      },
      { reason: 30, qualification: 0x00e9_0040n },
    ],
    [
      'REP INSD (DX)',
      {
        kind: 'io',
        ...at,
        length: 2,
        direction: 'in',
        port: 0x1f0,
        size: 4,
        value: undefined,
        string: true,
        rep: true,
        immediate: false,
      },
      { reason: 30, qualification: 0x01f0_003bn },
    ],
    [
      'MOV CR4, R15',
      { kind: 'cr-write', ...at, length: 4, cr: 4, gpr: 15, value: 0x6a0n },
      { reason: 28, qualification: 0xf04n, instructionLength: 4 },
    ],
    [
      'EPT write to a read/execute page',
      {
        kind: 'ept-violation',
        ...at,
        gpa: 0x200ff8n,
        gla: 0x200ff8n,
        access: 'write',
        pageAccess: 5,
        length: 8,
      },
      { reason: 48, qualification: 0x1aan, gpa: 0x200ff8n, gla: 0x200ff8n, instructionLength: 8 },
    ],
    ['triple fault', { kind: 'triple-fault', ...at }, { reason: 2 }],
    ['instruction limit', { kind: 'instruction-limit', ...at }, { reason: 1 }],
  ])('%s', (_name, exit, expected) => {
    expect(toVmxExit(exit)).toMatchObject(expected)
  })
})
