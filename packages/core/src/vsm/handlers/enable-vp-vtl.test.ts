import { describe, expect, it } from 'vitest'
import { enablePartitionVtlFlags } from '../../hv/enable-partition-vtl.js'
import type { EnableVpVtlInput } from '../../hv/enable-vp-vtl.js'
import { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF } from '../../hv/hypercall-code.js'
import { toHex } from '../../hv/testing/arbitraries.js'
import { HvStatus } from '../../hv/status.js'
import { PartitionField, PendingOperation, WakeReason } from '../shared-state.js'
import { snapshotEngine } from '../snapshot.js'
import {
  bringUpBsp,
  enterVtl1,
  makeEngine,
  validContext,
  type Harness,
} from '../testing/harness.js'
import { handleWake } from '../wake.js'
import { enablePartitionVtl } from './enable-partition-vtl.js'
import { enableVpVtl } from './enable-vp-vtl.js'
import { startVirtualProcessor } from './start-virtual-processor.js'
import { HvRegisterName } from '../../hv/register-name.js'
import { assertInterrupt, handleCrossVtlInterrupts } from '../interrupts.js'
import { getVpRegister, setVpRegister } from './register-access.js'
import { vtlCall, vtlReturn } from './vtl-switch.js'

function input(overrides: Partial<EnableVpVtlInput> = {}): EnableVpVtlInput {
  return {
    partitionId: HV_PARTITION_ID_SELF,
    vpIndex: HV_VP_INDEX_SELF,
    targetVtl: 1,
    context: validContext(),
    ...overrides,
  }
}

function enablePartition(h: Harness): void {
  const flags = enablePartitionVtlFlags()
  expect(
    enablePartitionVtl(h.engine, { partitionId: HV_PARTITION_ID_SELF, targetVtl: 1, flags })
  ).toBe(0)
}

interface Row {
  name: string
  setup?: (h: Harness) => void
  caller?: number
  input: EnableVpVtlInput
  status: HvStatus
}

// vsm-on-tdx.md §4.1 (and §13.11), one row per check, in order.
const rows: Row[] = [
  {
    name: '0: target_vtl 3 → InvalidParameter',
    setup: enablePartition,
    input: input({ targetVtl: 3 }),
    status: 0x05,
  },
  {
    name: '0 before 2: target_vtl 0x80 and a bad partition → InvalidParameter',
    input: input({ targetVtl: 0x80, partitionId: 5n }),
    status: 0x05,
  },
  {
    name: '2: partition not SELF → InvalidPartitionId',
    setup: enablePartition,
    input: input({ partitionId: 0n }),
    status: 0x0d,
  },
  {
    name: '2 before 3: bad partition and bad VP → InvalidPartitionId',
    input: input({ partitionId: 0n, vpIndex: 99 }),
    status: 0x0d,
  },
  {
    name: '3: vp_index = vp_count → InvalidVpIndex',
    setup: enablePartition,
    input: input({ vpIndex: 2 }),
    status: 0x0e,
  },
  {
    name: '3: vp_index 0xFFFFFFFF (not SELF) → InvalidVpIndex',
    setup: enablePartition,
    input: input({ vpIndex: 0xffff_ffff }),
    status: 0x0e,
  },
  {
    name: '3 before 4: bad VP and target VTL0 → InvalidVpIndex',
    input: input({ vpIndex: 7, targetVtl: 0 }),
    status: 0x0e,
  },
  {
    name: '4: target VTL2 → InvalidParameter',
    setup: enablePartition,
    input: input({ targetVtl: 2 }),
    status: 0x05,
  },
  {
    name: '4: target VTL0 → InvalidParameter',
    setup: enablePartition,
    input: input({ targetVtl: 0 }),
    status: 0x05,
  },
  {
    name: '5: partition VTL1 not enabled → InvalidVtlState (the opentmk oracle)',
    input: input(),
    status: 0x51,
  },
  {
    name: '6a: VTL0 enabling another VP → AccessDenied',
    setup: enablePartition,
    input: input({ vpIndex: 1 }),
    status: 0x06,
  },
  {
    name: '6a: VTL0 of a second VP after the first one → AccessDenied',
    setup: (h) => {
      bringUpBsp(h)
    },
    caller: 1,
    input: input(),
    status: 0x06,
  },
  {
    name: '6a: VTL0 of the BSP again (enabled_on_any_vp) → AccessDenied, not 0x86',
    setup: (h) => {
      bringUpBsp(h)
    },
    input: input(),
    status: 0x06,
  },
  {
    name: '7: VTL1 re-enabling its own VP → VtlAlreadyEnabled',
    setup: (h) => {
      bringUpBsp(h)
      enterVtl1(h)
    },
    input: input(),
    status: 0x86,
  },
  {
    name: '7: VTL1 enabling an AP twice → VtlAlreadyEnabled',
    setup: (h) => {
      bringUpBsp(h)
      enterVtl1(h)
      expect(enableVpVtl(h.engine, 0, input({ vpIndex: 1 }))).toBe(0)
    },
    input: input({ vpIndex: 1 }),
    status: 0x86,
  },
  {
    name: '§13.11: EFER.NXE clear → InvalidRegisterValue at call time',
    setup: enablePartition,
    input: input({ context: validContext({ efer: 0x500n }) }),
    status: 0x50,
  },
  {
    name: '§13.11: EFER.SVME → InvalidRegisterValue',
    setup: enablePartition,
    input: input({ context: validContext({ efer: 0x1d01n }) }),
    status: 0x50,
  },
  {
    name: '§13.11: CR4.PKE (bit 22, outside 0x00B7_1FFF) → InvalidRegisterValue',
    setup: enablePartition,
    input: input({ context: validContext({ cr4: 0x40_0020n }) }),
    status: 0x50,
  },
  {
    name: '§13.11: CR4.VMXE (not guest-owned) → InvalidRegisterValue',
    setup: enablePartition,
    input: input({ context: validContext({ cr4: 0x2020n }) }),
    status: 0x50,
  },
  {
    name: '§13.11: an all-zero context (no NXE, no NE) → InvalidRegisterValue',
    setup: enablePartition,
    input: input({
      context: validContext({ efer: 0n, cr0: 0n, cr4: 0n }),
    }),
    status: 0x50,
  },
  {
    name: '9: the hypervisor refuses → its status, nothing changed',
    setup: (h) => {
      enablePartition(h)
      h.hv.answer = (code) => (code === 0x0f ? HvStatus.NoResources : HvStatus.Success)
    },
    input: input(),
    status: 0x1d,
  },
]

describe('EnableVpVtl (§4.1)', () => {
  it.each(rows)('$name', (row) => {
    const h = makeEngine(2)
    row.setup?.(h)
    const before = snapshotEngine(h.engine)
    const wakes = h.vpPort.wakes.length
    expect(enableVpVtl(h.engine, row.caller ?? 0, row.input)).toBe(row.status)
    expect(snapshotEngine(h.engine)).toEqual(before)
    expect(h.vpPort.wakes.length).toBe(wakes)
  })

  it('6b: a VTL1 caller while enabled_on_any_vp is false is an invariant break, not a status', () => {
    const h = makeEngine(2)
    enablePartition(h)
    h.engine.vp(0).exitVtl = 1
    expect(() => enableVpVtl(h.engine, 0, input({ vpIndex: 1 }))).toThrow(/enabled_on_any_vp/)
  })

  it('VTL0 on the BSP: zero context to the host, EnableCalled, context queued, target woken', () => {
    const h = makeEngine(2)
    enablePartition(h)
    expect(enableVpVtl(h.engine, 0, input())).toBe(HvStatus.Success)
    const call = h.hv.calls[1]
    expect(call?.control).toBe(0x000fn)
    expect(toHex(call?.input ?? new Uint8Array())).toBe(
      'ffffffffffffffff' + '00000000' + '01' + '000000' + '00'.repeat(224)
    )
    const { shared } = h.engine
    expect(shared.vtl1EnableCalled(0)).toBe(true)
    expect(h.engine.flag(PartitionField.EnabledOnAnyVp)).toBe(true)
    expect(shared.pendingOperation(0, 1)).toBe(PendingOperation.EnableVpVtl)
    expect(shared.wakeReasons(0, 1)).toBe(WakeReason.HvStartEnableVtlVp)
    expect(h.vpPort.wakes).toEqual([0])
    // EnableCalled is not Active: VtlCall is still #UD (§4.3).
    expect(h.engine.vp(0).vtl1).toBeUndefined()
    expect(vtlCall(h.engine, 0, 0x11n, 0n)).toBe(false)
  })

  it('§4.2: the wake applies the queued context through the VpPort and makes VTL1 Active', () => {
    const h = makeEngine(2)
    enablePartition(h)
    const context = validContext({ rip: 0xfeed_0000n, rsp: 0x7000n })
    expect(enableVpVtl(h.engine, 0, input({ vpIndex: 0, context }))).toBe(0)
    const vtl0Rip = h.engine.vp(0).vtls[0].registers.rip
    const outcome = handleWake(h.engine, 0)
    expect(outcome.applied).toEqual([PendingOperation.None, PendingOperation.EnableVpVtl])
    const vp = h.engine.vp(0)
    expect(vp.vtl1).toBeDefined()
    expect(vp.exitVtl).toBe(0)
    expect(vp.vtls[1].registers.rip).toBe(0xfeed_0000n)
    expect(vp.vtls[1].registers.rsp).toBe(0x7000n)
    expect(vp.vtls[1].registers.efer).toBe(0xd01n)
    expect(vp.vtls[1].registers.pat).toBe(context.msrCrPat)
    expect(vp.vtls[0].registers.rip).toBe(vtl0Rip)
    expect(h.vpPort.writes).toHaveLength(1)
    expect(h.vpPort.writes[0]).toMatchObject({
      vp: 0,
      vtl: 1,
      registers: { rip: 0xfeed_0000n, cr3: 0x4000n },
    })
    expect(h.engine.shared.pendingOperation(0, 1)).toBe(PendingOperation.None)
    expect(vtlCall(h.engine, 0, 0x11n, 0n)).toBe(true)
  })

  it('§13.11: the kvm-unit-tests context (CR0 = PE|WP|PG, NE clear) is accepted; ET is forced', () => {
    const h = makeEngine(2)
    enablePartition(h)
    const context = validContext({ efer: 0xd00n, cr0: 0x8001_0001n, cr4: 0x220n })
    expect(enableVpVtl(h.engine, 0, input({ context }))).toBe(HvStatus.Success)
    handleWake(h.engine, 0)
    const regs = h.engine.vp(0).vtls[1].registers
    expect(regs.cr0).toBe(0x8001_0011n)
    expect(regs.cr4).toBe(0x220n)
    expect(h.vpPort.writes[0]?.registers.cr0).toBe(0x8001_0011n)
  })

  it('§4.2: a VpPort failure keeps the context queued and VTL1 inactive', () => {
    const h = makeEngine(2)
    enablePartition(h)
    expect(enableVpVtl(h.engine, 0, input())).toBe(0)
    h.vpPort.writeStatus = HvStatus.OperationFailed
    expect(handleWake(h.engine, 0).status).toBe(HvStatus.OperationFailed)
    expect(h.engine.vp(0).vtl1).toBeUndefined()
    expect(h.engine.shared.pendingOperation(0, 1)).toBe(PendingOperation.EnableVpVtl)
    h.vpPort.writeStatus = HvStatus.Success
    expect(handleWake(h.engine, 0).status).toBe(HvStatus.Success)
    expect(h.engine.vp(0).vtl1).toBeDefined()
  })

  it('VTL1 orchestrates the APs, HV_VP_INDEX_SELF resolves to the caller', () => {
    const h = makeEngine(3)
    bringUpBsp(h)
    enterVtl1(h)
    expect(enableVpVtl(h.engine, 0, input({ vpIndex: 2 }))).toBe(0)
    expect(h.engine.shared.vtl1EnableCalled(2)).toBe(true)
    expect(h.engine.shared.vtl1EnableCalled(1)).toBe(false)
    expect(h.hv.calls.at(-1)?.input[8]).toBe(2)
  })

  it('§13.8: StartVp(VTL1) before the wake overwrites the EnableVpVtl context; VTL1 never turns Active', () => {
    const h = makeEngine(2)
    bringUpBsp(h)
    enterVtl1(h)
    expect(enableVpVtl(h.engine, 0, input({ vpIndex: 1 }))).toBe(0)
    const start = {
      partitionId: HV_PARTITION_ID_SELF,
      vpIndex: 1,
      targetVtl: 1,
      context: validContext({ rip: 0x5000n }),
    }
    expect(startVirtualProcessor(h.engine, 0, start)).toBe(0)
    expect(h.engine.shared.pendingOperation(1, 1)).toBe(PendingOperation.StartVp)
    handleWake(h.engine, 1)
    const ap = h.engine.vp(1)
    expect(ap.vtl1).toBeUndefined()
    expect(ap.exitVtl).toBe(1)
    expect(ap.vtls[1].registers.rip).toBe(0x5000n)
  })
})

describe('§13.17: the StartVp-over-EnableVpVtl state (VTL1 running, never Active)', () => {
  function overwritten(): Harness {
    const h = makeEngine(2)
    bringUpBsp(h)
    enterVtl1(h)
    expect(enableVpVtl(h.engine, 0, input({ vpIndex: 1 }))).toBe(0)
    const start = {
      partitionId: HV_PARTITION_ID_SELF,
      vpIndex: 1,
      targetVtl: 1,
      context: validContext(),
    }
    expect(startVirtualProcessor(h.engine, 0, start)).toBe(0)
    handleWake(h.engine, 1)
    expect(h.engine.vp(1).exitVtl).toBe(1)
    expect(h.engine.vp(1).vtl1).toBeUndefined()
    return h
  }

  const R = HvRegisterName
  it.each([
    { name: 'CrInterceptControl read', get: R.CrInterceptControl },
    { name: 'CrInterceptCr0Mask read', get: R.CrInterceptCr0Mask },
    { name: 'CrInterceptCr4Mask write', set: R.CrInterceptCr4Mask, target: 1 as const },
    {
      name: 'CrInterceptIa32MiscEnableMask write',
      set: R.CrInterceptIa32MiscEnableMask,
      target: 1 as const,
    },
    // Deviations: OpenHCL panics on these two.
    { name: 'CrInterceptControl write', set: R.CrInterceptControl, target: 1 as const },
    {
      name: 'PendingEvent0 write (VTL0 #GP)',
      set: R.PendingEvent0,
      target: 0 as const,
      value: 0xd_0001n,
    },
  ])('$name → InvalidVtlState, nothing changed', (row) => {
    const h = overwritten()
    const before = snapshotEngine(h.engine)
    if (row.get !== undefined) {
      expect(getVpRegister(h.engine, 1, 1, 1, row.get).status).toBe(HvStatus.InvalidVtlState)
    } else {
      expect(setVpRegister(h.engine, 1, 1, row.target, row.set, row.value ?? 1n)).toBe(
        HvStatus.InvalidVtlState
      )
    }
    expect(snapshotEngine(h.engine)).toEqual(before)
  })

  it('VtlCall from VTL0 #UDs; VINA and VTL1 preemption do nothing', () => {
    const h = overwritten()
    const ap = h.engine.vp(1)
    expect(setVpRegister(h.engine, 1, 1, 1, R.VsmVina, 0x130n)).toBe(0)
    assertInterrupt(h.engine, 1, 0, 0x40)
    expect(handleCrossVtlInterrupts(h.engine, 1)).toBe(false)
    expect(ap.vtls[1].control.vinaStatus).toBe(0)
    expect(vtlReturn(h.engine, 1, 0x12n, 0n)).toBe(true)
    expect(vtlCall(h.engine, 1, 0x11n, 0n)).toBe(false)
    assertInterrupt(h.engine, 1, 1, 0x50)
    handleCrossVtlInterrupts(h.engine, 1)
    expect(ap.exitVtl).toBe(0)
  })

  it('neither EnableVpVtl (VtlAlreadyEnabled) nor StartVp (InvalidVpState) repairs it', () => {
    const h = overwritten()
    expect(enableVpVtl(h.engine, 0, input({ vpIndex: 1 }))).toBe(HvStatus.VtlAlreadyEnabled)
    const start = {
      partitionId: HV_PARTITION_ID_SELF,
      vpIndex: 1,
      targetVtl: 1,
      context: validContext(),
    }
    expect(startVirtualProcessor(h.engine, 0, start)).toBe(HvStatus.InvalidVpState)
    handleWake(h.engine, 1)
    expect(h.engine.vp(1).vtl1).toBeUndefined()
  })
})

describe('EnableVpVtl: any VP may be the first', () => {
  it('VTL0 of VP 1 enables VTL1 on itself first; then VP 0 may not', () => {
    const h = makeEngine(2)
    enablePartition(h)
    expect(enableVpVtl(h.engine, 1, input())).toBe(HvStatus.Success)
    expect(h.engine.shared.vtl1EnableCalled(1)).toBe(true)
    expect(h.hv.calls.at(-1)?.input[8]).toBe(1)
    expect(enableVpVtl(h.engine, 0, input())).toBe(HvStatus.AccessDenied)
  })
})
