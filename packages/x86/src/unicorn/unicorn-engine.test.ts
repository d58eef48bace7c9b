import { afterEach, describe, expect, it } from 'vitest'
import { UcMemType, UcProt, X86Reg } from './constants.js'
import { UnicornEngine, type UcMemFault } from './unicorn-engine.js'
import { UnicornError, ucErrName } from './unicorn-error.js'
import { unicornAvailability } from './unicorn-library.js'

const availability = unicornAvailability()
const skip = availability.available ? false : `libunicorn missing: ${availability.reason}`

describe.skipIf(skip)('UnicornEngine (libunicorn through koffi)', () => {
  const engines: UnicornEngine[] = []
  const open = (): { uc: UnicornEngine; ram: Buffer } => {
    const uc = new UnicornEngine()
    engines.push(uc)
    const ram = Buffer.alloc(0x10000)
    uc.mapPtr(0n, ram, UcProt.ALL)
    return { uc, ram }
  }
  afterEach(() => {
    for (const e of engines.splice(0)) e.close()
  })

  it('runs flat 64-bit code over a caller-owned buffer and reads registers back (batch)', () => {
    const { uc, ram } = open()
    // mov rax, 0x1234; add rax, 1; mov [0x2000], rax
    Buffer.from('48c7c0341200004883c001488904250020000000', 'hex').copy(ram, 0x1000)
    expect(uc.start(0x1000n, 3)).toBe(0)
    expect(uc.readRegs([X86Reg.RAX, X86Reg.RIP])).toEqual([0x1235n, 0x1013n])
    expect(ram.readBigUInt64LE(0x2000)).toBe(0x1235n)
  })

  it('writes a batch of registers', () => {
    const { uc } = open()
    uc.writeRegs([X86Reg.RBX, X86Reg.R15], [7n, 0xffff_ffff_ffff_fffen])
    expect(uc.readReg(X86Reg.RBX)).toBe(7n)
    expect(uc.readReg(X86Reg.R15)).toBe(0xffff_ffff_ffff_fffen)
  })

  it('stops a write to a read-only mapping with UC_ERR_WRITE_PROT, the address and (with a code hook) the precise RIP', () => {
    const { uc, ram } = open()
    // A code hook makes Unicorn keep RIP exact per instruction; without one RIP is the block's.
    uc.addCodeHook(() => undefined)
    uc.protect(0x3000n, 0x1000, UcProt.READ)
    const faults: UcMemFault[] = []
    uc.addMemFaultHook((f) => {
      faults.push(f)
      return false
    })
    Buffer.from('90488904251030000000', 'hex').copy(ram, 0x1000) // nop; mov [0x3010], rax
    expect(ucErrName(uc.start(0x1000n))).toBe('UC_ERR_WRITE_PROT')
    expect(faults).toEqual([{ type: UcMemType.WRITE_PROT, address: 0x3010n, size: 8 }])
    expect(uc.readReg(X86Reg.RIP)).toBe(0x1001n)
  })

  it('calls the code hook before each instruction and stops there on request', () => {
    const { uc, ram } = open()
    const seen: [number, number][] = []
    uc.addCodeHook((address, size) => {
      seen.push([address, size])
      if (address === 0x1002) uc.stop()
    })
    Buffer.from('9090f4', 'hex').copy(ram, 0x1000)
    expect(uc.start(0x1000n)).toBe(0)
    expect(seen).toEqual([
      [0x1000, 1],
      [0x1001, 1],
      [0x1002, 1],
    ])
    expect(uc.readReg(X86Reg.RIP)).toBe(0x1002n)
  })

  it('reports an undecodable instruction through the invalid-instruction hook', () => {
    const { uc, ram } = open()
    let hits = 0
    uc.addInvalidInstructionHook(() => {
      hits++
      return false
    })
    Buffer.from('0f0b', 'hex').copy(ram, 0x1000) // ud2
    expect(ucErrName(uc.start(0x1000n))).toBe('UC_ERR_INSN_INVALID')
    expect(hits).toBe(1)
  })

  it('clears the exception in flight, so a repeated #DE is not escalated to #DF', () => {
    const { uc, ram } = open()
    const vectors: number[] = []
    uc.addInterruptHook((vector) => {
      vectors.push(vector)
      uc.stop()
    })
    Buffer.from('31c948f7f1', 'hex').copy(ram, 0x1000) // xor ecx, ecx; div rcx
    for (let i = 0; i < 3; i++) {
      expect(uc.resetExceptionState()).toBe(true)
      uc.start(0x1000n)
    }
    expect(vectors).toEqual([0, 0, 0])
  })

  it('refuses a misaligned mapping with a typed error (UC_ERR_ARG, E_INVALID_VALUE)', () => {
    const { uc } = open()
    let error: unknown
    try {
      uc.mapPtr(0x20001n, Buffer.alloc(0x1000), UcProt.ALL)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(UnicornError)
    expect(error).toMatchObject({ code: 'E_INVALID_VALUE', ucErrName: 'UC_ERR_ARG' })
  })

  it('refuses calls on a closed engine', () => {
    const { uc } = open()
    uc.close()
    expect(() => uc.readReg(X86Reg.RAX)).toThrow(/closed/)
  })
})

describe('unicornAvailability', () => {
  it('says whether the library loads, with a version or the reason', () => {
    if (availability.available) expect(availability.version).toMatch(/^2\.\d+$/)
    else expect(availability.reason).toMatch(/libunicorn|koffi/)
  })
})
