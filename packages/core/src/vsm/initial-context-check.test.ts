import { describe, expect, it } from 'vitest'
import { HvStatus } from '../hv/status.js'
import { validContext } from './testing/harness.js'
import {
  CR4_GUEST_OWNED_AND_MCE,
  DEFAULT_VMX_FIXED_BITS,
  checkInitialContext,
  cr4AllowedBits,
} from './initial-context-check.js'

const OK = HvStatus.Success
const BAD = HvStatus.InvalidRegisterValue
const LME_LMA_NXE = 0xd00n

// vsm-on-tdx.md §13.11: the EFER/CR0/CR4 rules of OpenHCL's TDX state access, one row per rule.
const rows: { name: string; efer?: bigint; cr0?: bigint; cr4?: bigint; status: HvStatus }[] = [
  { name: 'EFER = LME|LMA|NXE', efer: LME_LMA_NXE, status: OK },
  { name: 'EFER.NXE clear', efer: 0x500n, status: BAD },
  { name: 'EFER.SVME (bit 12)', efer: LME_LMA_NXE | 0x1000n, status: BAD },
  { name: 'EFER.FFXSR (bit 14)', efer: LME_LMA_NXE | 0x4000n, status: BAD },
  { name: 'EFER.SCE|TCE and bit 40 are not checked here', efer: 0x100_0000_8d01n, status: OK },
  // kvm-unit-tests' VSM suite: CR0 = PE|WP|PG with NE clear, CR4 = PAE|OSFXSR.
  { name: 'CR0 = PE|WP|PG, NE clear', cr0: 0x8001_0001n, cr4: 0x220n, status: OK },
  {
    name: 'CR0 = PG without PE (a SetVpRegisters rule, not this one)',
    cr0: 0x8000_0000n,
    status: OK,
  },
  { name: 'CR0 with NW without CD and bit 63', cr0: 0x8000_0000_2000_0011n, status: OK },
  { name: 'CR0 = 0', cr0: 0n, status: OK },
  { name: 'CR4 = every bit of 0x00B7_1FFF', cr4: 0x00b7_1fffn, status: OK },
  { name: 'CR4.VMXE (bit 13)', cr4: 0x2020n, status: BAD },
  { name: 'CR4.SMXE (bit 14)', cr4: 0x4020n, status: BAD },
  { name: 'CR4 bit 15', cr4: 0x8020n, status: BAD },
  { name: 'CR4.KL (bit 19)', cr4: 0x8_0020n, status: BAD },
  { name: 'CR4.PKE (bit 22)', cr4: 0x40_0020n, status: BAD },
  { name: 'CR4.PKS (bit 24)', cr4: 0x100_0020n, status: BAD },
  { name: 'CR4 bit 32', cr4: 0x1_0000_0020n, status: BAD },
]

describe('checkInitialContext (§13.11)', () => {
  it.each(rows)('$name → $status', ({ efer, cr0, cr4, status }) => {
    const context = validContext({
      ...(efer === undefined ? {} : { efer }),
      ...(cr0 === undefined ? {} : { cr0 }),
      ...(cr4 === undefined ? {} : { cr4 }),
    })
    expect(checkInitialContext(context, DEFAULT_VMX_FIXED_BITS)).toBe(status)
  })

  it('the allowed CR4 set is the mask intersected with CR4_FIXED1', () => {
    expect(cr4AllowedBits(DEFAULT_VMX_FIXED_BITS)).toBe(CR4_GUEST_OWNED_AND_MCE)
    // A CPU without LA57 (bit 12) in CR4_FIXED1 refuses it.
    const noLa57 = { cr4Fixed1: 0x01ff_0fffn }
    expect(cr4AllowedBits(noLa57)).toBe(0x00b7_0fffn)
    expect(checkInitialContext(validContext({ cr4: 0x1020n }), noLa57)).toBe(BAD)
    expect(checkInitialContext(validContext({ cr4: 0x1020n }), DEFAULT_VMX_FIXED_BITS)).toBe(OK)
  })
})
