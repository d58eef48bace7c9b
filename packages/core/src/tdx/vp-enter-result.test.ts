import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeTdxVpEnterResult } from './vp-enter-result.js'
import { VmxExitBasic, decodeVmxExit, vmxExitBasicName } from './vmx-exit.js'

// SDM Appendix C numbers, typed by hand.
const REASONS: readonly (readonly [string, number])[] = [
  ['EXCEPTION_NMI', 0],
  ['EXTERNAL_INTERRUPT', 1],
  ['TRIPLE_FAULT', 2],
  ['INIT_SIGNAL', 3],
  ['SIPI', 4],
  ['IO_SMI', 5],
  ['OTHER_SMI', 6],
  ['INTERRUPT_WINDOW', 7],
  ['NMI_WINDOW', 8],
  ['TASK_SWITCH', 9],
  ['CPUID', 10],
  ['GETSEC', 11],
  ['HLT', 12],
  ['INVD', 13],
  ['INVLPG', 14],
  ['RDPMC', 15],
  ['RDTSC', 16],
  ['RSM', 17],
  ['VMCALL', 18],
  ['CR_ACCESS', 28],
  ['DR_ACCESS', 29],
  ['IO', 30],
  ['MSR_READ', 31],
  ['MSR_WRITE', 32],
  ['INVALID_GUEST_STATE', 33],
  ['MSR_LOADING', 34],
  ['MWAIT', 36],
  ['MONITOR_TRAP_FLAG', 37],
  ['MONITOR', 39],
  ['PAUSE', 40],
  ['MCE_DURING_VMENTRY', 41],
  ['TPR_BELOW_THRESHOLD', 43],
  ['APIC_ACCESS', 44],
  ['EOI_INDUCED', 45],
  ['GDTR_IDTR', 46],
  ['LDTR_TR', 47],
  ['EPT_VIOLATION', 48],
  ['EPT_MISCONFIG', 49],
  ['INVEPT', 50],
  ['RDTSCP', 51],
  ['PREEMPTION_TIMER', 52],
  ['INVVPID', 53],
  ['WBINVD', 54],
  ['XSETBV', 55],
  ['APIC_WRITE', 56],
  ['RDRAND', 57],
  ['INVPCID', 58],
  ['VMFUNC', 59],
  ['ENCLS', 60],
  ['RDSEED', 61],
  ['PML_FULL', 62],
  ['XSAVES', 63],
  ['XRSTORS', 64],
  ['UMWAIT', 67],
  ['TPAUSE', 68],
  ['TDCALL', 77],
]

describe('VmxExitBasic', () => {
  it('lists exactly the reasons above', () => {
    expect(Object.keys(VmxExitBasic).sort()).toEqual(REASONS.map(([n]) => n).sort())
  })

  it.each(REASONS)('%s = %i', (name, value) => {
    expect((VmxExitBasic as Record<string, number>)[name]).toBe(value)
    expect(vmxExitBasicName(value)).toBe(name)
  })

  it('decodes the flag bits of the 32-bit exit reason', () => {
    expect(decodeVmxExit(0x8000_0021)).toEqual({
      basicReason: 33,
      busLockPreempted: false,
      enclaveInterruption: false,
      pendingMtf: false,
      vmEntryFailed: true,
    })
    expect(decodeVmxExit(0x1c00_0030)).toEqual({
      basicReason: 48,
      busLockPreempted: true,
      enclaveInterruption: true,
      pendingMtf: true,
      vmEntryFailed: false,
    })
  })
})

describe('decodeTdxVpEnterResult', () => {
  it.each([
    // [rax, basic reason, tdx status, L2 ran]
    [0x0000_0000_0000_0030n, 48, 0x0000, true],
    [0x0000_0000_0000_000cn, 12, 0x0000, true],
    [0x0000_1100_0000_0001n, 1, 0x1100, true],
    [0x0000_1101_0000_004dn, 77, 0x1101, true],
    [0x0000_1102_0000_0001n, 1, 0x1102, true],
    [0x0000_111f_0000_0000n, 0, 0x111f, true],
    [0x0000_1120_0000_0000n, 0, 0x1120, false],
    [0x0000_1140_0000_0000n, 0, 0x1140, false],
    [0x0000_1142_0000_0000n, 0, 0x1142, false],
    [0xc000_0100_0000_0000n, 0, 0xc000_0100, false],
  ])('%s → reason %i, status %i, ran %s', (rax, basic, status, ran) => {
    const result = decodeTdxVpEnterResult(rax)
    expect(result.vmxExit.basicReason).toBe(basic)
    expect(result.tdxStatus).toBe(status)
    expect(result.l2Ran).toBe(ran)
  })

  it('the kernel’s "halted" placeholder means the L2 never ran', () => {
    // abi.md §1.7: the kernel writes 0x0000112000000000 (TDX_PENDING_INTERRUPT) before halting.
    expect(decodeTdxVpEnterResult(0x0000_1120_0000_0000n).l2Ran).toBe(false)
  })

  it('splits any RAX into its halves', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }), (rax) => {
        const r = decodeTdxVpEnterResult(rax)
        expect(BigInt(r.tdxStatus) * 2n ** 32n + BigInt(r.vmxExit.basicReason)).toBe(
          rax & 0xffff_ffff_0000_ffffn
        )
        expect(r.l2Ran).toBe(rax < 0x0000_1120_0000_0000n)
      })
    )
  })

  it('rejects values that are not u64', () => {
    expect(() => decodeTdxVpEnterResult(-1n)).toThrow(
      expect.objectContaining({ code: 'E_FIELD_RANGE' })
    )
  })
})
