import { describe, expect, it } from 'vitest'
import { HvRegisterName as R } from '../../hv/register-name.js'
import { HvStatus } from '../../hv/status.js'
import { snapshotEngine } from '../snapshot.js'
import { bringUpBsp, enterVtl1, makeEngine } from '../testing/harness.js'
import { getVpRegister, setVpRegister } from './register-access.js'

const OK = HvStatus.Success
const BAD = HvStatus.InvalidRegisterValue
/** Writable from VTL1 but not settable for a lower VTL: reached only once the value passes. */
const PARAM = HvStatus.InvalidParameter

interface Row {
  name: string
  register: number
  value: bigint
  status: HvStatus
  /** What a successful write leaves (default: the value). */
  written?: bigint
  /** VTL0's EFER/CR4 before the write (FS/GS are checked against the live paging width). */
  efer?: bigint
  cr4?: bigint
}

// vsm-on-tdx.md §13.13: every value rule of `validate_set_vp_register_value`, VTL1 setting VTL0.
const rows: Row[] = [
  ...[R.SysenterEsp, R.SysenterEip, R.Lstar, R.Cstar].flatMap((register) => [
    {
      name: `${register.toString(16)} canonical 57 (0x00ff…)`,
      register,
      value: 0x00ff_ffff_ffff_f000n,
      status: OK,
    },
    {
      name: `${register.toString(16)} canonical high half`,
      register,
      value: 0xff00_0000_0000_0000n,
      status: OK,
    },
    {
      name: `${register.toString(16)} not canonical`,
      register,
      value: 0x0100_0000_0000_0000n,
      status: BAD,
    },
  ]),
  {
    name: 'KernelGsBase not canonical',
    register: R.KernelGsBase,
    value: 0x8000_0000_0000_0000n,
    status: BAD,
  },
  {
    name: 'KernelGsBase canonical (then not settable)',
    register: R.KernelGsBase,
    value: 0x1000n,
    status: PARAM,
  },
  {
    name: 'InterruptSspTableAddr not canonical',
    register: R.InterruptSspTableAddr,
    value: 0x0200_0000_0000_0000n,
    status: BAD,
  },
  {
    name: 'InterruptSspTableAddr canonical (then not settable)',
    register: R.InterruptSspTableAddr,
    value: 0x1000n,
    status: PARAM,
  },
  { name: 'Efer SCE|LME|LMA|NXE|SVME|FFXSR|TCE', register: R.Efer, value: 0xdd01n, status: OK },
  { name: 'Efer bit 13 (outside the valid set)', register: R.Efer, value: 0x2d01n, status: BAD },
  { name: 'Efer bit 63', register: R.Efer, value: 0x8000_0000_0000_0d01n, status: BAD },
  { name: 'Pat UC WC WT WP WB UC-', register: R.Pat, value: 0x0007_0605_0401_0000n, status: OK },
  { name: 'Pat type 2 in byte 3', register: R.Pat, value: 0x0000_0000_0200_0000n, status: BAD },
  { name: 'Pat type 3 in byte 0', register: R.Pat, value: 0x3n, status: BAD },
  { name: 'Pat a top bit of byte 7', register: R.Pat, value: 0x0800_0000_0000_0000n, status: BAD },
  { name: 'Sfmask low 32 bits', register: R.Sfmask, value: 0xffff_ffffn, status: OK },
  { name: 'Sfmask bit 32', register: R.Sfmask, value: 0x1_0000_0000n, status: BAD },
  { name: 'Xss CET_U|CET_S (then not settable)', register: R.Xss, value: 0x1800n, status: PARAM },
  { name: 'Xss bit 9 (not supported)', register: R.Xss, value: 0x200n, status: BAD },
  ...[R.Pl0Ssp, R.Pl1Ssp, R.Pl2Ssp, R.Pl3Ssp].flatMap((register) => [
    {
      name: `${register.toString(16)} aligned canonical (then not settable)`,
      register,
      value: 0xffff_8000_0000_1000n,
      status: PARAM,
    },
    { name: `${register.toString(16)} not 4-byte aligned`, register, value: 0x1002n, status: BAD },
    {
      name: `${register.toString(16)} not canonical`,
      register,
      value: 0x0100_0000_0000_0000n,
      status: BAD,
    },
  ]),
  // FS/GS: the base against the target VTL's paging (48 bits unless LMA and LA57).
  {
    name: 'Fs base canonical 48 (then not settable)',
    register: R.Fs,
    value: 0x7fff_ffff_f000n,
    status: PARAM,
  },
  {
    name: 'Fs base canonical 57 only, 4-level paging',
    register: R.Fs,
    value: 0x00ff_0000_0000_0000n,
    status: BAD,
  },
  {
    name: 'Fs base canonical 57, LMA and LA57',
    register: R.Fs,
    value: 0x00ff_0000_0000_0000n,
    efer: 0xd00n,
    cr4: 0x1020n,
    status: PARAM,
  },
  { name: 'Gs base not canonical', register: R.Gs, value: 0x0000_8000_0000_0000n, status: BAD },
  // CR0: reserved low bits cleared first, then the three refusals.
  { name: 'Cr0 PE|ET|NE|WP|PG', register: R.Cr0, value: 0x8001_0031n, status: OK },
  {
    name: 'Cr0 reserved low bits cleared silently',
    register: R.Cr0,
    value: 0x8001_0031n | 0x1ffa_ffc0n,
    status: OK,
    written: 0x8001_0031n,
  },
  { name: 'Cr0 bit 32', register: R.Cr0, value: 0x1_8000_0031n, status: BAD },
  { name: 'Cr0 PG without PE', register: R.Cr0, value: 0x8000_0030n, status: BAD },
  { name: 'Cr0 NW without CD', register: R.Cr0, value: 0xa000_0031n, status: BAD },
  { name: 'Cr0 NW with CD', register: R.Cr0, value: 0xe000_0031n, status: OK },
  // CR4: 0xFFFF_FFFF_FF48_E000.
  { name: 'Cr4 PAE|PGE|OSFXSR|SMEP|SMAP|CET', register: R.Cr4, value: 0xb0_06a0n, status: OK },
  { name: 'Cr4 VMXE', register: R.Cr4, value: 0x2020n, status: BAD },
  { name: 'Cr4 SMXE', register: R.Cr4, value: 0x4020n, status: BAD },
  { name: 'Cr4 bit 15', register: R.Cr4, value: 0x8020n, status: BAD },
  { name: 'Cr4 KL', register: R.Cr4, value: 0x8_0020n, status: BAD },
  { name: 'Cr4 PKE', register: R.Cr4, value: 0x40_0020n, status: BAD },
  { name: 'Cr4 bit 24', register: R.Cr4, value: 0x100_0020n, status: BAD },
  { name: 'Cr4 bit 40', register: R.Cr4, value: 0x100_0000_0020n, status: BAD },
]

describe('SetVpRegisters value rules (§13.13)', () => {
  it.each(rows)('$name → $status', (row) => {
    const h = makeEngine(2)
    bringUpBsp(h)
    enterVtl1(h)
    const vtl0 = h.engine.vp(0).vtls[0].registers
    if (row.efer !== undefined) vtl0.efer = row.efer
    if (row.cr4 !== undefined) vtl0.cr4 = row.cr4
    const before = snapshotEngine(h.engine)
    expect(setVpRegister(h.engine, 0, 1, 0, row.register, row.value)).toBe(row.status)
    if (row.status !== OK) {
      expect(snapshotEngine(h.engine)).toEqual(before)
      return
    }
    const read = getVpRegister(h.engine, 0, 1, 0, row.register)
    expect(read.value).toBe(row.written ?? row.value)
  })

  it('the access check comes first: VTL1 setting its own LSTAR non-canonical → AccessDenied', () => {
    const h = makeEngine(2)
    bringUpBsp(h)
    enterVtl1(h)
    expect(setVpRegister(h.engine, 0, 1, 1, R.Lstar, 0x0100_0000_0000_0000n)).toBe(
      HvStatus.AccessDenied
    )
  })

  it('Xss follows the XSAVE support the engine models', () => {
    const h = makeEngine(2, { xssSupported: 0x800n })
    bringUpBsp(h)
    enterVtl1(h)
    expect(setVpRegister(h.engine, 0, 1, 0, R.Xss, 0x1000n)).toBe(BAD)
    expect(setVpRegister(h.engine, 0, 1, 0, R.Xss, 0x800n)).toBe(PARAM)
  })
})
