import { describe, expect, it } from 'vitest'
import {
  formatRegisterName,
  HvRegisterName,
  parseRegisterName,
  registerName,
  registerNumberFromName,
  sintRegister,
  vsmVpSecureConfigRegister,
} from './register-name.js'
import { expectVtlError } from './testing/arbitraries.js'

// Numbers copied by hand from abi.md §4.5 and hvdef `HvX64RegisterName`.
const EXPECTED: [string, number][] = [
  ['VsmCodePageOffsets', 0x000d0002],
  ['VsmVpStatus', 0x000d0003],
  ['VsmPartitionStatus', 0x000d0004],
  ['VsmVina', 0x000d0005],
  ['VsmCapabilities', 0x000d0006],
  ['VsmPartitionConfig', 0x000d0007],
  ['GuestVsmPartitionConfig', 0x000d0008],
  ['VsmVpSecureConfigVtl0', 0x000d0010],
  ['VsmVpSecureConfigVtl1', 0x000d0011],
  ['VsmVpSecureConfigVtl14', 0x000d001e],
  ['VsmVpWaitForTlbLock', 0x000d0020],
  ['VpAssistPage', 0x00090013],
  ['RegisterPage', 0x0009001c],
  ['SevControl', 0x00090040],
  ['Sint0', 0x000a0000],
  ['Sint15', 0x000a000f],
  ['Scontrol', 0x000a0010],
  ['Sversion', 0x000a0011],
  ['Siefp', 0x000a0012],
  ['Simp', 0x000a0013],
  ['Eom', 0x000a0014],
  ['CrInterceptControl', 0x000e0000],
  ['CrInterceptCr0Mask', 0x000e0001],
  ['CrInterceptCr4Mask', 0x000e0002],
  ['CrInterceptIa32MiscEnableMask', 0x000e0003],
  ['PendingEvent0', 0x00010004],
  ['Rax', 0x00020000],
  ['Rcx', 0x00020001],
  ['Rdx', 0x00020002],
  ['Rbx', 0x00020003],
  ['Rsp', 0x00020004],
  ['Rbp', 0x00020005],
  ['Rsi', 0x00020006],
  ['Rdi', 0x00020007],
  ['R8', 0x00020008],
  ['R15', 0x0002000f],
  ['Rip', 0x00020010],
  ['Rflags', 0x00020011],
  ['Cr0', 0x00040000],
  ['Cr2', 0x00040001],
  ['Cr3', 0x00040002],
  ['Cr4', 0x00040003],
  ['Cr8', 0x00040004],
  ['Xfem', 0x00040005],
  ['Dr0', 0x00050000],
  ['Dr3', 0x00050003],
  ['Dr6', 0x00050004],
  ['Dr7', 0x00050005],
  ['Es', 0x00060000],
  ['Cs', 0x00060001],
  ['Ss', 0x00060002],
  ['Ds', 0x00060003],
  ['Fs', 0x00060004],
  ['Gs', 0x00060005],
  ['Ldtr', 0x00060006],
  ['Tr', 0x00060007],
  ['Idtr', 0x00070000],
  ['Gdtr', 0x00070001],
  ['Tsc', 0x00080000],
  ['Efer', 0x00080001],
  ['KernelGsBase', 0x00080002],
  ['ApicBase', 0x00080003],
  ['Pat', 0x00080004],
  ['SysenterCs', 0x00080005],
  ['SysenterEip', 0x00080006],
  ['SysenterEsp', 0x00080007],
  ['Star', 0x00080008],
  ['Lstar', 0x00080009],
  ['Cstar', 0x0008000a],
  ['Sfmask', 0x0008000b],
  ['TscAux', 0x0008007b],
  ['Xss', 0x0008008b],
]

describe('HvRegisterName', () => {
  it.each(EXPECTED)('%s = 0x%s', (name, value) => {
    expect((HvRegisterName as Record<string, number>)[name]).toBe(value)
    expect(registerName(value)).toBe(name)
    expect(registerNumberFromName(name)).toBe(value)
  })

  it('has one name per number', () => {
    const values = Object.values(HvRegisterName)
    expect(new Set(values).size).toBe(values.length)
  })

  it('looks names up case-insensitively, with aliases and TLFS prefixes', () => {
    expect(registerNumberFromName('simp')).toBe(0x000a0013)
    expect(registerNumberFromName('Sipp')).toBe(0x000a0013)
    expect(registerNumberFromName('SIFP')).toBe(0x000a0012)
    expect(registerNumberFromName('RIP')).toBe(0x00020010)
    expect(registerNumberFromName('cr0mask')).toBe(0x000e0001)
    expect(registerNumberFromName('Cr4Mask')).toBe(0x000e0002)
    expect(registerNumberFromName('Ia32MiscEnableMask')).toBe(0x000e0003)
    expect(registerNumberFromName('HvRegisterVsmPartitionConfig')).toBe(0x000d0007)
    expect(registerNumberFromName('HvX64RegisterCrInterceptControl')).toBe(0x000e0000)
    expect(registerNumberFromName('hvx64registerrax')).toBe(0x00020000)
  })

  it('answers unknown names and numbers without guessing', () => {
    expect(registerNumberFromName('Rzz')).toBeUndefined()
    expect(registerNumberFromName('')).toBeUndefined()
    expect(registerName(0x12345678)).toBeUndefined()
    expect(formatRegisterName(0x000a0013)).toBe('Simp')
    expect(formatRegisterName(0x00abcdef)).toBe('0x00abcdef')
    expectVtlError(() => parseRegisterName('NoSuchRegister'), 'E_UNKNOWN_NAME', 'name')
    expect(parseRegisterName('vsmcapabilities')).toBe(0x000d0006)
  })

  it('computes VsmVpSecureConfigVtlN and SintN', () => {
    expect(vsmVpSecureConfigRegister(0)).toBe(0x000d0010)
    expect(vsmVpSecureConfigRegister(14)).toBe(0x000d001e)
    expect(sintRegister(0)).toBe(0x000a0000)
    expect(sintRegister(15)).toBe(0x000a000f)
    expectVtlError(() => vsmVpSecureConfigRegister(15), 'E_FIELD_RANGE')
    expectVtlError(() => sintRegister(16), 'E_FIELD_RANGE')
    for (let n = 0; n <= 14; n++) {
      expect(registerName(vsmVpSecureConfigRegister(n))).toBe(`VsmVpSecureConfigVtl${n}`)
    }
    for (let n = 0; n <= 15; n++) expect(registerName(sintRegister(n))).toBe(`Sint${n}`)
  })

  it('round-trips every listed name through both lookups', () => {
    for (const [name, value] of Object.entries(HvRegisterName)) {
      expect(registerName(value)).toBe(name)
      expect(registerNumberFromName(name.toUpperCase())).toBe(value)
    }
  })
})
