import { describe, expect, it } from 'vitest'
import { HvRegisterName } from '../../hv/register-name.js'
import { HvStatus } from '../../hv/status.js'
import { PartitionField } from '../shared-state.js'
import { snapshotEngine } from '../snapshot.js'
import { bringUpBsp, enterVtl1, makeEngine, type Harness } from '../testing/harness.js'
import { getVpRegister, setVpRegister } from './register-access.js'
import { getVsmPartitionConfig, setVsmPartitionConfig } from './vsm-partition-config.js'

const CONFIG = HvRegisterName.VsmPartitionConfig

function inVtl1(h: Harness): void {
  bringUpBsp(h)
  enterVtl1(h)
}

function protectionsOn(h: Harness): void {
  inVtl1(h)
  expect(setVsmPartitionConfig(h.engine, 0x1fn)).toBe(0)
}

interface Row {
  name: string
  setup: (h: Harness) => void
  options?: { accessVsmPrivilege?: boolean }
  callerVtl?: 0 | 1
  targetVtl?: 0 | 1
  value: bigint
  status: HvStatus
}

// vsm-on-tdx.md §5.5: access validation, then steps 1–6 in order.
const rows: Row[] = [
  {
    name: 'access: target VTL0 → InvalidParameter',
    setup: inVtl1,
    targetVtl: 0,
    value: 0x1fn,
    status: 0x05,
  },
  {
    name: 'access: VTL0 caller targeting itself → InvalidParameter',
    setup: () => undefined,
    callerVtl: 0,
    targetVtl: 0,
    value: 0x1fn,
    status: 0x05,
  },
  {
    name: '1: intercept_acceptance (bit 7) → InvalidRegisterValue',
    setup: inVtl1,
    value: 0x9fn,
    status: 0x50,
  },
  {
    name: '1: reserved bit 16 → InvalidRegisterValue',
    setup: inVtl1,
    value: 0x1_001fn,
    status: 0x50,
  },
  {
    name: '1 before 2: bad bits while VSM is not Enabled → InvalidRegisterValue',
    setup: (h) => {
      h.engine.vp(0).exitVtl = 1
    },
    value: 0x100n,
    status: 0x50,
  },
  {
    name: '2: VSM not Enabled → InvalidVtlState',
    setup: (h) => {
      h.engine.vp(0).exitVtl = 1
    },
    value: 0x1fn,
    status: 0x51,
  },
  {
    name: '3: clearing enable_vtl_protection once on → InvalidRegisterValue',
    setup: protectionsOn,
    value: 0x1en,
    status: 0x50,
  },
  {
    name: '4: mask KX without UX → InvalidRegisterValue',
    setup: inVtl1,
    value: 0x1n | (0x7n << 1n),
    status: 0x50,
  },
  {
    name: '5: mask without W → InvalidRegisterValue',
    setup: inVtl1,
    value: 0x1n | (0xdn << 1n),
    status: 0x50,
  },
  {
    name: '5: mask without R (W only) → InvalidRegisterValue',
    setup: inVtl1,
    value: 0x1n | (0x2n << 1n),
    status: 0x50,
  },
  {
    name: '6: changing the mask once protections are on → InvalidRegisterValue',
    setup: protectionsOn,
    value: 0x1n | (0x3n << 1n),
    status: 0x50,
  },
  {
    name: '6: the protector refuses the new VTL0 default → its status',
    setup: (h) => {
      inVtl1(h)
      h.protection.defaultStatus = HvStatus.OperationDenied
    },
    value: 0x1n | (0x3n << 1n),
    status: 0x08,
  },
]

describe('VsmPartitionConfig writes (§5.5)', () => {
  it.each(rows)('$name', (row) => {
    const h = makeEngine(1, row.options ?? {})
    row.setup(h)
    if (row.callerVtl !== undefined) h.engine.vp(0).exitVtl = row.callerVtl
    const callerVtl = h.engine.vp(0).exitVtl
    const before = snapshotEngine(h.engine)
    expect(setVpRegister(h.engine, 0, callerVtl, row.targetVtl ?? 1, CONFIG, row.value)).toBe(
      row.status
    )
    expect(snapshotEngine(h.engine)).toEqual(before)
  })

  it('a VTL0 caller without access_vsm gets AccessDenied', () => {
    const h = makeEngine(1, { accessVsmPrivilege: false })
    expect(setVpRegister(h.engine, 0, 0, 0, CONFIG, 0x1fn)).toBe(HvStatus.AccessDenied)
    expect(getVpRegister(h.engine, 0, 0, 0, CONFIG).status).toBe(HvStatus.AccessDenied)
  })

  it('a new default mask goes to VTL0 through the protector; the flags are stored', () => {
    const h = makeEngine(1)
    inVtl1(h)
    // enable | mask R W (0x3) | zero_memory_on_reset | deny_lower_vtl_startup
    expect(setVsmPartitionConfig(h.engine, 0x67n)).toBe(0)
    expect(h.protection.calls.at(-1)).toBe('default vtl0 0x3')
    expect(getVsmPartitionConfig(h.engine)).toBe(0x67n)
    expect(h.engine.flag(PartitionField.DenyLowerVtlStartup)).toBe(true)
  })

  it('the same mask again does not sweep memory; flags may still change', () => {
    const h = makeEngine(1)
    protectionsOn(h)
    const calls = h.protection.calls.length
    expect(setVsmPartitionConfig(h.engine, 0x5fn)).toBe(0)
    expect(h.protection.calls.length).toBe(calls)
    expect(h.engine.flag(PartitionField.DenyLowerVtlStartup)).toBe(true)
  })

  it("bit 0 clear does not count as protections enabled (TLFS meaning, not OpenHCL's quirk)", () => {
    const h = makeEngine(1)
    inVtl1(h)
    expect(setVsmPartitionConfig(h.engine, 0x1en)).toBe(0)
    expect(h.engine.flag(PartitionField.Vtl1ProtectionsEnabled)).toBe(false)
    expect(getVsmPartitionConfig(h.engine)).toBe(0x1en)
  })

  it('reads 0 until VSM is Enabled', () => {
    const h = makeEngine(1)
    h.engine.vp(0).exitVtl = 1
    expect(getVpRegister(h.engine, 0, 1, 1, CONFIG)).toEqual({ status: 0, value: 0n })
  })
})
