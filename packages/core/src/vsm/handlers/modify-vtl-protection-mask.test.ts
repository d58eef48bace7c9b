import { describe, expect, it } from 'vitest'
import { HV_PARTITION_ID_SELF } from '../../hv/hypercall-code.js'
import { encodeModifyVtlProtectionMask } from '../../hv/modify-vtl-protection-mask.js'
import { HvStatus } from '../../hv/status.js'
import { bytes } from '../../hv/testing/arbitraries.js'
import { dispatchHypercall } from '../dispatch.js'
import { PartitionField } from '../shared-state.js'
import { snapshotEngine } from '../snapshot.js'
import { bringUpBsp, control, enterVtl1, makeEngine, type Harness } from '../testing/harness.js'
import { modifyVtlProtectionMask } from './modify-vtl-protection-mask.js'
import { setVsmPartitionConfig } from './vsm-partition-config.js'

/** VTL1 running on VP 0 with protections enabled (VsmPartitionConfig = enable | mask 0xF). */
function ready(h: Harness, mbec = false): void {
  bringUpBsp(h, mbec)
  enterVtl1(h)
  expect(setVsmPartitionConfig(h.engine, 0x1fn)).toBe(HvStatus.Success)
}

const header = (mapFlags: number, targetVtl: number, partitionId = HV_PARTITION_ID_SELF) => ({
  partitionId,
  mapFlags,
  targetVtl,
})

interface Row {
  name: string
  setup: (h: Harness) => void
  mapFlags?: number
  targetVtl?: number
  partitionId?: bigint
  status: HvStatus
}

// vsm-on-tdx.md §5.4, one row per check, in order.
const rows: Row[] = [
  {
    name: '0: HvInputVtl reserved bit 5 → InvalidParameter',
    setup: ready,
    targetVtl: 0x20,
    status: 0x05,
  },
  {
    name: '0: HvInputVtl explicit VTL3 → InvalidParameter',
    setup: ready,
    targetVtl: 0x13,
    status: 0x05,
  },
  {
    name: '0 before 1: bad HvInputVtl and a bad partition → InvalidParameter',
    setup: ready,
    targetVtl: 0x40,
    partitionId: 0n,
    status: 0x05,
  },
  {
    name: '1: partition not SELF → AccessDenied (not InvalidPartitionId)',
    setup: ready,
    partitionId: 0n,
    status: 0x06,
  },
  { name: '2: VTL1 targeting VTL2 → AccessDenied', setup: ready, targetVtl: 0x12, status: 0x06 },
  {
    name: '2: VTL0 targeting VTL1 → AccessDenied',
    setup: (h) => {
      ready(h)
      h.engine.vp(0).exitVtl = 0
    },
    targetVtl: 0x11,
    status: 0x06,
  },
  {
    name: '3: VTL0 targeting its own VTL → InvalidParameter',
    setup: (h) => {
      ready(h)
      h.engine.vp(0).exitVtl = 0
    },
    targetVtl: 0x00,
    status: 0x05,
  },
  {
    name: '3: VTL1 targeting VTL0 explicitly → InvalidParameter',
    setup: ready,
    targetVtl: 0x10,
    status: 0x05,
  },
  {
    name: '4: VTL1 before any VsmPartitionConfig write → AccessDenied',
    setup: (h) => {
      bringUpBsp(h)
      enterVtl1(h)
    },
    status: 0x06,
  },
  {
    name: '5: VSM not Enabled → InvalidVtlState',
    setup: (h) => {
      h.engine.vp(0).exitVtl = 1
      h.engine.shared.setPartitionField(PartitionField.Vtl1ProtectionsEnabled, 1)
    },
    status: 0x51,
  },
  { name: '6: adjustable → InvalidRegisterValue', setup: ready, mapFlags: 0x8001, status: 0x50 },
  { name: '6: W without R → InvalidRegisterValue', setup: ready, mapFlags: 0x2, status: 0x50 },
  {
    name: '6: KX without UX, no MBEC → InvalidRegisterValue',
    setup: ready,
    mapFlags: 0x5,
    status: 0x50,
  },
  {
    name: '6: UX without KX, no MBEC → InvalidRegisterValue',
    setup: ready,
    mapFlags: 0x9,
    status: 0x50,
  },
  {
    name: '6: KX without UX even with MBEC → InvalidRegisterValue',
    setup: (h) => {
      ready(h, true)
    },
    mapFlags: 0x5,
    status: 0x50,
  },
  {
    name: '6: SSS (no shadow stacks on CVMs) → InvalidRegisterValue',
    setup: ready,
    mapFlags: 0x1d,
    status: 0x50,
  },
  {
    name: '7: a page the protector refuses → OperationDenied',
    setup: (h) => {
      ready(h)
      h.protection.vtlStatus = HvStatus.OperationDenied
    },
    status: 0x08,
  },
]

describe('ModifyVtlProtectionMask (§5.4)', () => {
  it.each(rows)('$name', (row) => {
    const h = makeEngine(1)
    row.setup(h)
    const calls = h.protection.calls.length
    const before = snapshotEngine(h.engine)
    const result = modifyVtlProtectionMask(
      h.engine,
      0,
      header(row.mapFlags ?? 0x1, row.targetVtl ?? 0x00, row.partitionId),
      [0x100n, 0x101n]
    )
    expect(result).toEqual({ status: row.status, processed: 0 })
    expect(snapshotEngine(h.engine)).toEqual(before)
    if (row.status !== HvStatus.OperationDenied) expect(h.protection.calls.length).toBe(calls)
  })

  it('VTL1 protects pages from VTL0: the permissions land on VTL0 (§12.5)', () => {
    const h = makeEngine(1)
    ready(h)
    const result = modifyVtlProtectionMask(h.engine, 0, header(0x1, 0x11), [0x100n, 0x200n])
    expect(result).toEqual({ status: 0, processed: 2 })
    expect(h.protection.calls.at(-1)).toBe('protect vtl0 0x1 [256,512]')
  })

  it('with use_target_vtl clear the value bits are ignored (§13.9)', () => {
    const h = makeEngine(1)
    ready(h)
    expect(modifyVtlProtectionMask(h.engine, 0, header(0x3, 0x0f), [1n]).status).toBe(0)
  })

  it('MBEC on: UX without KX is accepted', () => {
    const h = makeEngine(1)
    ready(h, true)
    expect(modifyVtlProtectionMask(h.engine, 0, header(0x9, 0x00), [1n]).status).toBe(0)
  })
})

describe('ModifyVtlProtectionMask through the dispatcher (raw bytes)', () => {
  // header: partition SELF, map_flags R (0x1), target_vtl 0x11 (explicit VTL1); GPNs 0x100..0x103.
  const page = bytes(`
    ffffffffffffffff 01000000 11 000000
    0001000000000000 0101000000000000 0201000000000000 0301000000000000`)

  it('honours rep start: elements before it are not applied; reps completed counts them', () => {
    const h = makeEngine(1)
    ready(h)
    const outcome = dispatchHypercall(h.engine, {
      vp: 0,
      control: control(0x0c, { repCount: 4, repStart: 2 }),
      inputGpa: 0x5000n,
      input: page,
    })
    expect(outcome).toMatchObject({ kind: 'completed', status: 0, repsCompleted: 4 })
    expect(outcome.kind === 'completed' && outcome.result).toBe(0x4_0000_0000n)
    expect(h.protection.calls.at(-1)).toBe('protect vtl0 0x1 [258,259]')
  })

  it('a bad GPN anywhere: nothing applied, reps completed 0 (rep start 0)', () => {
    const h = makeEngine(1)
    ready(h)
    h.protection.vtlStatus = HvStatus.OperationDenied
    const outcome = dispatchHypercall(h.engine, {
      vp: 0,
      control: control(0x0c, { repCount: 4 }),
      inputGpa: 0x5000n,
      input: page,
    })
    expect(outcome).toMatchObject({ kind: 'completed', status: 0x08, repsCompleted: 0 })
    expect(outcome.kind === 'completed' && outcome.result).toBe(0x8n)
  })

  it('a bad GPN with rep start 1: reps completed stays at the rep start', () => {
    const h = makeEngine(1)
    ready(h)
    h.protection.vtlStatus = HvStatus.OperationDenied
    const outcome = dispatchHypercall(h.engine, {
      vp: 0,
      control: control(0x0c, { repCount: 4, repStart: 1 }),
      inputGpa: 0x5000n,
      input: encodeModifyVtlProtectionMask(header(0x1, 0x11), [1n, 2n, 3n, 4n]),
    })
    expect(outcome).toMatchObject({ kind: 'completed', status: 0x08, repsCompleted: 1 })
  })
})
