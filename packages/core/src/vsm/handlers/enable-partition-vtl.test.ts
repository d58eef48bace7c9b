import { describe, expect, it } from 'vitest'
import {
  enablePartitionVtlFlags,
  type EnablePartitionVtlInput,
} from '../../hv/enable-partition-vtl.js'
import { HV_PARTITION_ID_SELF } from '../../hv/hypercall-code.js'
import { HvStatus } from '../../hv/status.js'
import { GuestVsmState, PartitionField } from '../shared-state.js'
import { snapshotEngine } from '../snapshot.js'
import { makeEngine, type Harness } from '../testing/harness.js'
import { toHex } from '../../hv/testing/arbitraries.js'
import { enablePartitionVtl } from './enable-partition-vtl.js'

function input(overrides: Partial<EnablePartitionVtlInput> = {}): EnablePartitionVtlInput {
  return {
    partitionId: HV_PARTITION_ID_SELF,
    targetVtl: 1,
    flags: enablePartitionVtlFlags(),
    ...overrides,
  }
}

interface Row {
  name: string
  setup?: (h: Harness) => void
  options?: { accessVsmPrivilege?: boolean; hypervisorMaximumVtl?: number }
  input: EnablePartitionVtlInput
  status: HvStatus
}

// vsm-on-tdx.md §3, one row per check, in order.
const rows: Row[] = [
  {
    name: '0: target_vtl 3 does not parse → AccessDenied',
    input: input({ targetVtl: 3 }),
    status: 0x06,
  },
  {
    name: '0 before 1: target_vtl 0xff with a bad partition → AccessDenied',
    input: input({ targetVtl: 0xff, partitionId: 0n }),
    status: 0x06,
  },
  {
    name: '1: partition not SELF → InvalidPartitionId',
    input: input({ partitionId: 0n }),
    status: 0x0d,
  },
  {
    name: '1 before 2: VTL2 with a bad partition → InvalidPartitionId',
    input: input({ partitionId: 1n, targetVtl: 2 }),
    status: 0x0d,
  },
  { name: '2: target VTL2 → AccessDenied', input: input({ targetVtl: 2 }), status: 0x06 },
  { name: '3: target VTL0 → AccessDenied', input: input({ targetVtl: 0 }), status: 0x06 },
  {
    name: '4: enable_supervisor_shadow_stack → InvalidParameter',
    input: input({ flags: enablePartitionVtlFlags({ enableSupervisorShadowStack: true }) }),
    status: 0x05,
  },
  {
    name: '4: enable_hardware_hvpt → InvalidParameter',
    input: input({ flags: enablePartitionVtlFlags({ enableHardwareHvpt: true }) }),
    status: 0x05,
  },
  {
    name: '5: NotPlatformSupported (no access_vsm) → AccessDenied',
    options: { accessVsmPrivilege: false },
    input: input(),
    status: 0x06,
  },
  {
    name: '5: NotPlatformSupported (maximum_vtl 0) → AccessDenied',
    options: { hypervisorMaximumVtl: 0 },
    input: input(),
    status: 0x06,
  },
  {
    name: '5: revoked before the loader enabled it → AccessDenied',
    setup: (h) => {
      expect(h.engine.revokeGuestVsm()).toBe(true)
    },
    input: input(),
    status: 0x06,
  },
  {
    name: '6: already Enabled → InvalidVtlState (0x51, not 0x86 since PR #3539)',
    setup: (h) => {
      expect(enablePartitionVtl(h.engine, input())).toBe(0)
    },
    input: input(),
    status: 0x51,
  },
  {
    name: '6: a VTL1-style repeat with MBEC → still InvalidVtlState',
    setup: (h) => {
      expect(enablePartitionVtl(h.engine, input())).toBe(0)
    },
    input: input({ flags: enablePartitionVtlFlags({ enableMbec: true }) }),
    status: 0x51,
  },
  {
    name: '7: the hypervisor refuses → its status passes through',
    setup: (h) => (h.hv.answer = () => HvStatus.InsufficientMemory),
    input: input(),
    status: 0x0b,
  },
  {
    name: '9: a locked page stops the VTL1 sweep → OperationDenied, rolled back (deviation)',
    setup: (h) => (h.protection.defaultStatus = HvStatus.OperationDenied),
    input: input(),
    status: 0x08,
  },
]

describe('EnablePartitionVtl (§3)', () => {
  it.each(rows)('$name', (row) => {
    const h = makeEngine(2, row.options ?? {})
    row.setup?.(h)
    const hostCalls = h.hv.calls.length
    const before = snapshotEngine(h.engine)
    expect(enablePartitionVtl(h.engine, row.input)).toBe(row.status)
    if (row.status === HvStatus.OperationDenied) {
      // The hypervisor was told before the sweep failed; only that bookkeeping bit differs.
      h.engine.shared.setPartitionField(PartitionField.HostPartitionVtlEnabled, 0)
    } else if (row.status !== HvStatus.InsufficientMemory) {
      expect(h.hv.calls.length).toBe(hostCalls)
    }
    expect(snapshotEngine(h.engine)).toEqual(before)
  })

  it('enables VTL1: tells the hypervisor with flags 0, grants VTL1 ALL, records MBEC', () => {
    const h = makeEngine()
    const status = enablePartitionVtl(
      h.engine,
      input({ flags: enablePartitionVtlFlags({ enableMbec: true }, 0xf8) })
    )
    expect(status).toBe(HvStatus.Success)
    expect(h.hv.calls).toHaveLength(1)
    expect(h.hv.calls[0]?.control).toBe(0x000dn)
    // partition SELF, target 1, flags forced to 0 (MBEC and the reserved bits dropped).
    expect(toHex(h.hv.calls[0]?.input ?? new Uint8Array())).toBe('ffffffffffffffff0100000000000000')
    expect(h.protection.calls).toEqual(['default vtl1 0xf'])
    expect(h.engine.guestVsmState).toBe(GuestVsmState.Enabled)
    expect(h.engine.flag(PartitionField.MbecEnabled)).toBe(true)
    expect(h.engine.flag(PartitionField.EnabledOnAnyVp)).toBe(false)
  })

  it('does not check the caller VTL nor reserved flag bits', () => {
    const h = makeEngine()
    h.engine.vp(1).exitVtl = 1
    expect(enablePartitionVtl(h.engine, input({ flags: enablePartitionVtlFlags({}, 0x80) }))).toBe(
      0
    )
  })

  it('after a rolled-back sweep, a retry does not tell the hypervisor twice', () => {
    const h = makeEngine()
    h.protection.defaultStatus = HvStatus.OperationDenied
    expect(enablePartitionVtl(h.engine, input())).toBe(HvStatus.OperationDenied)
    expect(h.engine.guestVsmState).toBe(GuestVsmState.NotGuestEnabled)
    h.protection.defaultStatus = HvStatus.Success
    expect(enablePartitionVtl(h.engine, input())).toBe(HvStatus.Success)
    expect(h.hv.calls).toHaveLength(1)
    expect(h.engine.guestVsmState).toBe(GuestVsmState.Enabled)
  })

  it('revocation fails once VSM is Enabled', () => {
    const h = makeEngine()
    expect(enablePartitionVtl(h.engine, input())).toBe(0)
    expect(h.engine.revokeGuestVsm()).toBe(false)
    expect(h.engine.guestVsmState).toBe(GuestVsmState.Enabled)
  })
})
