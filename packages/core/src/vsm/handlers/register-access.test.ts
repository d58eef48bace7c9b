import { describe, expect, it } from 'vitest'
import { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF } from '../../hv/hypercall-code.js'
import { HvRegisterName as R } from '../../hv/register-name.js'
import { HvStatus } from '../../hv/status.js'
import { bytes, toHex } from '../../hv/testing/arbitraries.js'
import { dispatchHypercall } from '../dispatch.js'
import { snapshotEngine } from '../snapshot.js'
import { bringUpBsp, control, enterVtl1, makeEngine, type Harness } from '../testing/harness.js'
import { getVpRegister, setVpRegister } from './register-access.js'
import { getVpRegisters, setVpRegisters } from './vp-registers.js'

function inVtl1(h: Harness, mbec = false): void {
  bringUpBsp(h, mbec)
  enterVtl1(h)
}

const header = (
  overrides: { partitionId?: bigint; vpIndex?: number; targetVtl?: number } = {}
) => ({
  partitionId: HV_PARTITION_ID_SELF,
  vpIndex: HV_VP_INDEX_SELF,
  targetVtl: 0x10,
  ...overrides,
})

describe('Get/SetVpRegisters header checks (§13.6)', () => {
  const cases = [
    { name: 'partition not SELF', h: header({ partitionId: 7n }), get: 0x06, set: 0x06 },
    { name: 'another VP', h: header({ vpIndex: 1 }), get: 0x06, set: 0x0e },
    { name: 'HvInputVtl reserved bits', h: header({ targetVtl: 0x30 }), get: 0x05, set: 0x05 },
    { name: 'HvInputVtl explicit VTL3', h: header({ targetVtl: 0x13 }), get: 0x05, set: 0x05 },
    {
      name: 'a target above the caller (VTL2)',
      h: header({ targetVtl: 0x12 }),
      get: 0x06,
      set: 0x06,
    },
  ]
  it.each(cases)('$name → Get $get, Set $set', (row) => {
    const h = makeEngine(2)
    inVtl1(h)
    const before = snapshotEngine(h.engine)
    expect(getVpRegisters(h.engine, 0, row.h, [R.Rip]).status).toBe(row.get)
    expect(setVpRegisters(h.engine, 0, row.h, [{ name: R.Rip, value: 5n }])).toEqual({
      status: row.set,
      processed: 0,
    })
    expect(snapshotEngine(h.engine)).toEqual(before)
  })

  it('the caller VP by its own index is accepted like HV_VP_INDEX_SELF', () => {
    const h = makeEngine(2)
    inVtl1(h)
    expect(getVpRegisters(h.engine, 0, header({ vpIndex: 0 }), [R.Rip]).status).toBe(0)
  })
})

interface AccessRow {
  name: string
  caller: 0 | 1
  target: 0 | 1
  register: number
  get: HvStatus
  set: HvStatus
}

// §13.6 and `validate_register_access`: who may touch which register, and which are writable.
const access: AccessRow[] = [
  { name: 'VTL1 → VTL0 RIP', caller: 1, target: 0, register: R.Rip, get: 0, set: 0 },
  { name: 'VTL1 → VTL0 RSP', caller: 1, target: 0, register: R.Rsp, get: 0, set: 0 },
  { name: 'VTL1 → VTL0 RFLAGS', caller: 1, target: 0, register: R.Rflags, get: 0, set: 0 },
  { name: 'VTL1 → VTL0 EFER', caller: 1, target: 0, register: R.Efer, get: 0, set: 0 },
  { name: 'VTL1 → VTL0 CR0', caller: 1, target: 0, register: R.Cr0, get: 0, set: 0 },
  { name: 'VTL1 → VTL0 CR4', caller: 1, target: 0, register: R.Cr4, get: 0, set: 0 },
  { name: 'VTL1 → VTL0 CR8', caller: 1, target: 0, register: R.Cr8, get: 0, set: 0 },
  { name: 'VTL1 → VTL0 PAT', caller: 1, target: 0, register: R.Pat, get: 0, set: 0 },
  { name: 'VTL1 → VTL0 DR3', caller: 1, target: 0, register: R.Dr3, get: 0, set: 0 },
  { name: 'VTL1 → VTL0 DR7', caller: 1, target: 0, register: R.Dr7, get: 0, set: 0 },
  { name: 'VTL1 → VTL0 LSTAR', caller: 1, target: 0, register: R.Lstar, get: 0, set: 0 },
  {
    name: 'VTL1 → VTL0 SYSENTER_EIP',
    caller: 1,
    target: 0,
    register: R.SysenterEip,
    get: 0,
    set: 0,
  },
  { name: 'VTL1 → VTL0 TscAux', caller: 1, target: 0, register: R.TscAux, get: 0, set: 0 },
  { name: 'VTL1 → VTL0 GDTR', caller: 1, target: 0, register: R.Gdtr, get: 0, set: 0 },
  { name: 'VTL1 → VTL0 LDTR', caller: 1, target: 0, register: R.Ldtr, get: 0, set: 0 },
  {
    name: 'VTL1 → VTL0 RAX: readable, not writable',
    caller: 1,
    target: 0,
    register: R.Rax,
    get: 0,
    set: 0x05,
  },
  { name: 'VTL1 → VTL0 R15', caller: 1, target: 0, register: R.R15, get: 0, set: 0x05 },
  { name: 'VTL1 → VTL0 CR2', caller: 1, target: 0, register: R.Cr2, get: 0, set: 0x05 },
  { name: 'VTL1 → VTL0 CR3', caller: 1, target: 0, register: R.Cr3, get: 0, set: 0x05 },
  { name: 'VTL1 → VTL0 DR0', caller: 1, target: 0, register: R.Dr0, get: 0, set: 0x05 },
  {
    name: 'VTL1 → VTL0 KernelGsBase',
    caller: 1,
    target: 0,
    register: R.KernelGsBase,
    get: 0,
    set: 0x05,
  },
  { name: 'VTL1 → VTL0 CS', caller: 1, target: 0, register: R.Cs, get: 0, set: 0x05 },
  { name: 'VTL1 → VTL0 TR', caller: 1, target: 0, register: R.Tr, get: 0, set: 0x05 },
  { name: 'VTL1 → its own RIP', caller: 1, target: 1, register: R.Rip, get: 0x06, set: 0x06 },
  { name: 'VTL1 → its own RAX', caller: 1, target: 1, register: R.Rax, get: 0x06, set: 0x06 },
  { name: 'VTL0 → its own RIP', caller: 0, target: 0, register: R.Rip, get: 0x06, set: 0x06 },
  {
    name: 'VTL1 → its own PendingEvent0',
    caller: 1,
    target: 1,
    register: R.PendingEvent0,
    get: 0x05,
    set: 0x05,
  },
  { name: 'VTL1 → VTL0 VsmVina', caller: 1, target: 0, register: R.VsmVina, get: 0x05, set: 0x05 },
  {
    name: 'VTL1 → VTL0 CrInterceptControl',
    caller: 1,
    target: 0,
    register: R.CrInterceptControl,
    get: 0x06,
    set: 0x06,
  },
  {
    name: 'VTL1 → an unknown register',
    caller: 1,
    target: 1,
    register: 0x0012_3456,
    get: 0x05,
    set: 0x05,
  },
  { name: 'VTL1 → DR6 (not handled)', caller: 1, target: 0, register: R.Dr6, get: 0x05, set: 0x05 },
]

describe('register access rules (§8, §13.6)', () => {
  it.each(access)('$name: get $get, set $set', (row) => {
    const h = makeEngine(1)
    inVtl1(h)
    h.engine.vp(0).exitVtl = row.caller
    const before = snapshotEngine(h.engine)
    expect(getVpRegister(h.engine, 0, row.caller, row.target, row.register).status).toBe(row.get)
    expect(snapshotEngine(h.engine)).toEqual(before)
    // A value every §13.13 rule accepts (0x10 is a reserved EFER bit and not a PAT type).
    const value =
      row.register === R.Ldtr
        ? 0x0082_0000_0000_0000_0000_0000_0000_0000n
        : row.register === R.Efer
          ? 0xd01n
          : row.register === R.Pat
            ? 0x6n
            : 0x10n
    expect(setVpRegister(h.engine, 0, row.caller, row.target, row.register, value)).toBe(row.set)
    if (row.set !== 0) expect(snapshotEngine(h.engine)).toEqual(before)
  })

  it('a register write goes through the VpPort to the VTL, and a port failure changes nothing', () => {
    const h = makeEngine(1)
    inVtl1(h)
    expect(setVpRegister(h.engine, 0, 1, 0, R.Rip, 0x1234n)).toBe(0)
    expect(h.vpPort.writes.at(-1)).toEqual({ vp: 0, vtl: 0, registers: { rip: 0x1234n } })
    expect(h.engine.vp(0).vtls[0].registers.rip).toBe(0x1234n)
    h.vpPort.writeStatus = HvStatus.OperationFailed
    expect(setVpRegister(h.engine, 0, 1, 0, R.Cr0, 0x8000_0031n)).toBe(HvStatus.OperationFailed)
    expect(h.engine.vp(0).vtls[0].registers.cr0).not.toBe(0x8000_0031n)
  })
})

describe('VSM registers (§8, §13.5, §13.9)', () => {
  it('VsmCapabilities reads 0x20002, or 0x20003 with DR6 shared', () => {
    expect(getVpRegister(makeEngine(1).engine, 0, 0, 0, R.VsmCapabilities).value).toBe(0x20002n)
    const shared = makeEngine(1, { dr6Shared: true })
    expect(getVpRegister(shared.engine, 0, 0, 0, R.VsmCapabilities).value).toBe(0x20003n)
  })

  it('VsmCodePageOffsets reads the 64-bit pair 0x0F / 0x26', () => {
    expect(getVpRegister(makeEngine(1).engine, 0, 0, 0, R.VsmCodePageOffsets).value).toBe(0x2600fn)
  })

  it('VsmPartitionStatus per state', () => {
    expect(
      getVpRegister(
        makeEngine(1, { accessVsmPrivilege: false }).engine,
        0,
        0,
        0,
        R.VsmPartitionStatus
      ).value
    ).toBe(0x1n)
    const h = makeEngine(1)
    expect(getVpRegister(h.engine, 0, 0, 0, R.VsmPartitionStatus).value).toBe(0x1_0001n)
    bringUpBsp(h)
    expect(getVpRegister(h.engine, 0, 0, 0, R.VsmPartitionStatus).value).toBe(0x1_0003n)
    const m = makeEngine(1)
    bringUpBsp(m, true)
    expect(getVpRegister(m.engine, 0, 0, 0, R.VsmPartitionStatus).value).toBe(0x31_0003n)
  })

  it('VsmVpStatus: active VTL, MBEC of the VP, enabled set; VTL0 without access_vsm is refused', () => {
    const h = makeEngine(2)
    expect(getVpRegister(h.engine, 0, 0, 0, R.VsmVpStatus).value).toBe(0x1_0000n)
    inVtl1(h)
    expect(getVpRegister(h.engine, 0, 1, 1, R.VsmVpStatus).value).toBe(0x3_0001n)
    expect(getVpRegister(h.engine, 1, 0, 0, R.VsmVpStatus).value).toBe(0x1_0000n)
    const denied = makeEngine(1, { accessVsmPrivilege: false })
    expect(getVpRegister(denied.engine, 0, 0, 0, R.VsmVpStatus).status).toBe(HvStatus.AccessDenied)
  })

  // §13.17: registers of §8's table with no hardware-CVM arm.
  it.each([
    ['GuestVsmPartitionConfig', R.GuestVsmPartitionConfig],
    ['VsmVpWaitForTlbLock', R.VsmVpWaitForTlbLock],
    ['VsmVpSecureConfigVtl1', R.VsmVpSecureConfigVtl0 + 1],
    ['VsmVpSecureConfigVtl14', R.VsmVpSecureConfigVtl0 + 14],
  ])('§13.17: %s → InvalidParameter for Get and Set, from VTL0 and VTL1', (_name, register) => {
    const h = makeEngine(1)
    inVtl1(h)
    const before = snapshotEngine(h.engine)
    for (const caller of [0, 1] as const) {
      h.engine.vp(0).exitVtl = caller
      expect(getVpRegister(h.engine, 0, caller, caller, register).status).toBe(0x05)
      expect(setVpRegister(h.engine, 0, caller, caller, register, 1n)).toBe(0x05)
    }
    h.engine.vp(0).exitVtl = 1
    expect(snapshotEngine(h.engine)).toEqual(before)
  })

  describe('VsmVpSecureConfigVtl0 (§13.5)', () => {
    it('the requester is the target VTL: VTL1 with an explicit VTL0 target → AccessDenied', () => {
      const h = makeEngine(1)
      inVtl1(h)
      expect(getVpRegister(h.engine, 0, 1, 0, R.VsmVpSecureConfigVtl0).status).toBe(
        HvStatus.AccessDenied
      )
      expect(setVpRegister(h.engine, 0, 1, 0, R.VsmVpSecureConfigVtl0, 0n)).toBe(
        HvStatus.AccessDenied
      )
    })

    it('not Enabled → InvalidVtlState', () => {
      const h = makeEngine(1)
      h.engine.vp(0).exitVtl = 1
      expect(getVpRegister(h.engine, 0, 1, 1, R.VsmVpSecureConfigVtl0).status).toBe(
        HvStatus.InvalidVtlState
      )
      expect(setVpRegister(h.engine, 0, 1, 1, R.VsmVpSecureConfigVtl0, 0n)).toBe(
        HvStatus.InvalidVtlState
      )
    })

    const writes = [
      { name: 'supervisor shadow stack', value: 0x4n, status: 0x50 },
      { name: 'hardware HVPT', value: 0x8n, status: 0x50 },
      { name: 'MBEC differs from the partition', value: 0x1n, status: 0x50 },
    ]
    it.each(writes)('a write with $name → InvalidRegisterValue', (row) => {
      const h = makeEngine(1)
      inVtl1(h)
      const before = snapshotEngine(h.engine)
      expect(setVpRegister(h.engine, 0, 1, 1, R.VsmVpSecureConfigVtl0, row.value)).toBe(row.status)
      expect(snapshotEngine(h.engine)).toEqual(before)
    })

    it('tlb_locked locks VTL0 TLB on this VP until VtlReturn; MBEC records the VP bit', () => {
      const h = makeEngine(1)
      inVtl1(h, true)
      expect(setVpRegister(h.engine, 0, 1, 1, R.VsmVpSecureConfigVtl0, 0x3n)).toBe(0)
      expect(h.engine.shared.tlbLocked(0, 0)).toBe(true)
      expect(getVpRegister(h.engine, 0, 1, 1, R.VsmVpSecureConfigVtl0).value).toBe(0x3n)
      expect(getVpRegister(h.engine, 0, 1, 1, R.VsmVpStatus).value).toBe(0x3_0011n)
      expect(setVpRegister(h.engine, 0, 1, 1, R.VsmVpSecureConfigVtl0, 0x1n)).toBe(0)
      expect(h.engine.shared.tlbLocked(0, 0)).toBe(false)
    })
  })

  // §13.17: VsmVina reserved bits → InvalidParameter (the SynIC's write_reg), nothing written.
  it.each([
    { value: 0x7ffn, status: 0 },
    { value: 0x800n, status: 0x05 },
    { value: 0x8000_0000_0000_0000n, status: 0x05 },
  ])('§13.17: VsmVina $value → $status', ({ value, status }) => {
    const h = makeEngine(1)
    inVtl1(h)
    expect(setVpRegister(h.engine, 0, 1, 1, R.VsmVina, value)).toBe(status)
    expect(getVpRegister(h.engine, 0, 1, 1, R.VsmVina).value).toBe(status === 0 ? value : 0n)
  })

  it('PendingEvent0: only architectural exceptions, error codes only where they exist', () => {
    const h = makeEngine(1)
    inVtl1(h)
    const event = (vector: number, errorCode = false) =>
      1n | (errorCode ? 1n << 8n : 0n) | (BigInt(vector) << 16n)
    expect(setVpRegister(h.engine, 0, 1, 0, R.PendingEvent0, event(13, true))).toBe(0)
    expect(setVpRegister(h.engine, 0, 1, 0, R.PendingEvent0, event(6, true))).toBe(0x50)
    expect(setVpRegister(h.engine, 0, 1, 0, R.PendingEvent0, event(2))).toBe(0x50)
    expect(setVpRegister(h.engine, 0, 1, 0, R.PendingEvent0, event(14) | (1n << 1n))).toBe(0x50)
    expect(getVpRegister(h.engine, 0, 1, 0, R.PendingEvent0).value).toBe(event(13, true))
  })

  // §13.17: CrInterceptControl takes only the supported write-intercept bits 0x1EFF_D557.
  it.each([
    { name: 'every supported bit', value: 0x1eff_d557n, status: 0 },
    { name: 'CR0 and CR4 writes', value: 0x5n, status: 0 },
    { name: 'a read intercept (bit 3)', value: 1n << 3n, status: 0x50 },
    { name: 'SGX launch control (bit 24)', value: 1n << 24n, status: 0x50 },
    { name: 'bit 29', value: 1n << 29n, status: 0x50 },
    { name: 'bit 63', value: 1n << 63n, status: 0x50 },
  ])('§13.17: CrInterceptControl $name → $status', ({ value, status }) => {
    const h = makeEngine(1)
    inVtl1(h)
    expect(setVpRegister(h.engine, 0, 1, 1, R.CrInterceptControl, value)).toBe(status)
    expect(getVpRegister(h.engine, 0, 1, 1, R.CrInterceptControl).value).toBe(
      status === 0 ? value : 0n
    )
  })

  it.each([R.CrInterceptCr0Mask, R.CrInterceptCr4Mask, R.CrInterceptIa32MiscEnableMask])(
    '§13.17: mask register %s stores what is written',
    (register) => {
      const h = makeEngine(1)
      inVtl1(h)
      expect(setVpRegister(h.engine, 0, 1, 1, register, 0xffff_ffff_ffff_ffffn)).toBe(0)
      expect(getVpRegister(h.engine, 0, 1, 1, register).value).toBe(0xffff_ffff_ffff_ffffn)
    }
  )

  it('ApicBase can be written only with its current value', () => {
    const h = makeEngine(1)
    inVtl1(h)
    const base = getVpRegister(h.engine, 0, 1, 1, R.ApicBase).value
    expect(base).toBe(0xfee0_0900n)
    expect(setVpRegister(h.engine, 0, 1, 1, R.ApicBase, base)).toBe(0)
    expect(setVpRegister(h.engine, 0, 1, 1, R.ApicBase, 0xfee0_0000n)).toBe(
      HvStatus.InvalidParameter
    )
  })

  it('VpAssistPage refuses reserved bits 11:1', () => {
    const h = makeEngine(1)
    expect(setVpRegister(h.engine, 0, 0, 0, R.VpAssistPage, 0x5001n)).toBe(0)
    expect(setVpRegister(h.engine, 0, 0, 0, R.VpAssistPage, 0x5003n)).toBe(
      HvStatus.InvalidRegisterValue
    )
  })
})

describe('Get/SetVpRegisters through the dispatcher (raw bytes)', () => {
  // partition SELF, vp SELF, target VTL0 explicitly, names RIP and RFLAGS.
  const getPage = bytes('ffffffffffffffff feffffff 10 000000 10000200 11000200')

  it('VTL1 reads VTL0 RIP and RFLAGS: two 16-byte values out', () => {
    const h = makeEngine(1)
    inVtl1(h)
    const vtl0 = h.engine.vp(0).vtls[0].registers
    vtl0.rip = 0x1122_3344_5566_7788n
    vtl0.rflags = 0x246n
    const outcome = dispatchHypercall(h.engine, {
      vp: 0,
      control: control(0x50, { repCount: 2 }),
      inputGpa: 0x6000n,
      outputGpa: 0x7000n,
      input: getPage,
    })
    expect(outcome.kind).toBe('completed')
    if (outcome.kind !== 'completed') return
    expect(outcome.result).toBe(0x2_0000_0000n)
    expect(toHex(outcome.output ?? new Uint8Array())).toBe(
      '8877665544332211' + '0000000000000000' + '4602000000000000' + '0000000000000000'
    )
  })

  it('stops at the first bad name: reps completed 1 and one value out', () => {
    const h = makeEngine(1)
    inVtl1(h)
    const page = bytes('ffffffffffffffff feffffff 10 000000 10000200 56341200')
    const outcome = dispatchHypercall(h.engine, {
      vp: 0,
      control: control(0x50, { repCount: 2 }),
      inputGpa: 0x6000n,
      outputGpa: 0x7000n,
      input: page,
    })
    expect(outcome).toMatchObject({ kind: 'completed', status: 0x05, repsCompleted: 1 })
    expect(outcome.kind === 'completed' && outcome.output?.length).toBe(16)
  })

  it('SetVpRegisters of VTL0 RIP from VTL1 (32-byte associations)', () => {
    const h = makeEngine(1)
    inVtl1(h)
    const page = bytes(`
      ffffffffffffffff feffffff 10 000000
      10000200 000000000000000000000000 efbeadde00000000 0000000000000000`)
    const outcome = dispatchHypercall(h.engine, {
      vp: 0,
      control: control(0x51, { repCount: 1 }),
      inputGpa: 0x6000n,
      input: page,
    })
    expect(outcome).toMatchObject({ kind: 'completed', status: 0, repsCompleted: 1 })
    expect(h.engine.vp(0).vtls[0].registers.rip).toBe(0xdead_beefn)
  })

  it('a VTL0 guest without VSM reads VsmPartitionStatus through GetVpRegisters', () => {
    const h = makeEngine(1)
    const page = bytes('ffffffffffffffff feffffff 00 000000 04000d00')
    const outcome = dispatchHypercall(h.engine, {
      vp: 0,
      control: control(0x50, { repCount: 1 }),
      inputGpa: 0x6000n,
      outputGpa: 0x7000n,
      input: page,
    })
    expect(outcome.kind === 'completed' && toHex(outcome.output ?? new Uint8Array())).toBe(
      '0100010000000000' + '0000000000000000'
    )
  })
})

describe('§13.17: Get/SetVpRegisters stop at the first failing element', () => {
  /** SetVpRegisters header for VTL0 from VTL1, then (name, value) assocs. */
  function setPage(assocs: [number, bigint][]): Uint8Array {
    const page = new Uint8Array(16 + 32 * assocs.length)
    const view = new DataView(page.buffer)
    view.setBigUint64(0, 0xffff_ffff_ffff_ffffn, true)
    view.setUint32(8, 0xffff_fffe, true)
    view.setUint8(12, 0x10)
    assocs.forEach(([name, value], i) => {
      view.setUint32(16 + 32 * i, name, true)
      view.setBigUint64(16 + 32 * i + 16, value, true)
    })
    return page
  }

  const rows = [
    { name: 'the 2nd of 3 fails', repStart: 0, failAt: 1, status: 0x50, reps: 1, rips: [0x1000n] },
    {
      name: 'rep start 1, the 3rd fails',
      repStart: 1,
      failAt: 2,
      status: 0x50,
      reps: 2,
      rips: [0x2000n],
    },
    {
      name: 'rep start 2 skips the failing 2nd',
      repStart: 2,
      failAt: 1,
      status: 0,
      reps: 3,
      rips: [0x3000n],
    },
  ]
  it.each(rows)('$name → status $status, reps completed $reps, earlier writes kept', (row) => {
    const h = makeEngine(1)
    inVtl1(h)
    const assocs: [number, bigint][] = [
      [R.Rip, 0x1000n],
      [R.Rip, 0x2000n],
      [R.Rip, 0x3000n],
    ]
    // The failing element: CR0 with PG and no PE (§13.13).
    assocs[row.failAt] = [R.Cr0, 0x8000_0000n]
    const outcome = dispatchHypercall(h.engine, {
      vp: 0,
      control: control(0x51, { repCount: 3, repStart: row.repStart }),
      inputGpa: 0x1000n,
      input: setPage(assocs),
    })
    expect(outcome).toMatchObject({
      kind: 'completed',
      status: row.status,
      repsCompleted: row.reps,
    })
    expect(h.engine.vp(0).vtls[0].registers.rip).toBe(row.rips[0])
  })

  it('GetVpRegisters: the failing index is the reps completed, with the values before it', () => {
    const h = makeEngine(1)
    inVtl1(h)
    const page = bytes('ffffffffffffffff feffffff 10 000000 10000200 08000d00 10000200')
    const outcome = dispatchHypercall(h.engine, {
      vp: 0,
      control: control(0x50, { repCount: 3 }),
      inputGpa: 0x1000n,
      outputGpa: 0x2000n,
      input: page,
    })
    expect(outcome).toMatchObject({ kind: 'completed', status: 0x05, repsCompleted: 1 })
    expect(outcome.kind === 'completed' && outcome.output?.length).toBe(16)
  })
})
