import { describe, expect, it } from 'vitest'
import { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF } from '../../hv/hypercall-code.js'
import type { StartVirtualProcessorInput } from '../../hv/start-virtual-processor.js'
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
import { enableVpVtl } from './enable-vp-vtl.js'
import { startVirtualProcessor } from './start-virtual-processor.js'

function input(overrides: Partial<StartVirtualProcessorInput> = {}): StartVirtualProcessorInput {
  return {
    partitionId: HV_PARTITION_ID_SELF,
    vpIndex: 1,
    targetVtl: 0,
    context: validContext({ rip: 0x7c00n }),
    ...overrides,
  }
}

function inVtl1(h: Harness): void {
  bringUpBsp(h)
  enterVtl1(h)
}

interface Row {
  name: string
  setup?: (h: Harness) => void
  input: StartVirtualProcessorInput
  status: HvStatus
}

// vsm-on-tdx.md §4.5 (and §13.7, §13.11), one row per check, in order.
const rows: Row[] = [
  { name: 'target_vtl 3 → InvalidParameter', input: input({ targetVtl: 3 }), status: 0x05 },
  {
    name: 'partition not SELF → InvalidPartitionId',
    input: input({ partitionId: 2n }),
    status: 0x0d,
  },
  { name: 'target = caller → InvalidVpIndex', input: input({ vpIndex: 0 }), status: 0x0e },
  {
    name: 'HV_VP_INDEX_SELF is not accepted → InvalidVpIndex',
    input: input({ vpIndex: HV_VP_INDEX_SELF }),
    status: 0x0e,
  },
  { name: 'target ≥ vp_count → InvalidVpIndex', input: input({ vpIndex: 3 }), status: 0x0e },
  {
    name: 'VP index checked before the VTL rule → InvalidVpIndex',
    input: input({ vpIndex: 3, targetVtl: 1 }),
    status: 0x0e,
  },
  {
    name: 'VTL0 starting VTL1 (higher than the caller) → AccessDenied',
    input: input({ targetVtl: 1 }),
    status: 0x06,
  },
  { name: 'VTL0 starting VTL2 → AccessDenied', input: input({ targetVtl: 2 }), status: 0x06 },
  {
    name: 'VTL1 on a VP without EnableVpVtl → InvalidVpState (0x15)',
    setup: inVtl1,
    input: input({ targetVtl: 1 }),
    status: 0x15,
  },
  {
    name: 'VTL0 caller with deny_lower_vtl_startup → AccessDenied',
    setup: (h) => {
      bringUpBsp(h)
      h.engine.shared.setPartitionField(PartitionField.DenyLowerVtlStartup, 1)
    },
    input: input(),
    status: 0x06,
  },
  {
    name: '§13.11: a bad initial context → InvalidRegisterValue, started untouched',
    input: input({ context: validContext({ efer: 0n }) }),
    status: 0x50,
  },
  {
    name: 'already started → InvalidVpState (repeats refused on CVMs)',
    setup: (h) => {
      expect(startVirtualProcessor(h.engine, 0, input())).toBe(0)
    },
    input: input(),
    status: 0x15,
  },
]

describe('StartVirtualProcessor (§4.5)', () => {
  it.each(rows)('$name', (row) => {
    const h = makeEngine(3)
    row.setup?.(h)
    const before = snapshotEngine(h.engine)
    expect(startVirtualProcessor(h.engine, 0, row.input)).toBe(row.status)
    expect(snapshotEngine(h.engine)).toEqual(before)
  })

  it('§13.7: VP 0 is started at creation, the APs are not', () => {
    const h = makeEngine(3)
    expect(h.engine.shared.started(0)).toBe(true)
    expect(h.engine.shared.started(1)).toBe(false)
    expect(startVirtualProcessor(h.engine, 1, input({ vpIndex: 0 }))).toBe(HvStatus.InvalidVpState)
  })

  it('without VSM: VTL0 starts an AP at its context; VTL0 runs first', () => {
    const h = makeEngine(2)
    expect(startVirtualProcessor(h.engine, 0, input())).toBe(HvStatus.Success)
    expect(h.engine.shared.started(1)).toBe(true)
    expect(h.engine.shared.pendingOperation(1, 0)).toBe(PendingOperation.StartVp)
    expect(h.engine.shared.wakeReasons(1, 0)).toBe(WakeReason.HvStartEnableVtlVp)
    expect(h.vpPort.wakes).toEqual([1])
    handleWake(h.engine, 1)
    expect(h.engine.vp(1).exitVtl).toBe(0)
    expect(h.engine.vp(1).vtls[0].registers.rip).toBe(0x7c00n)
    expect(h.engine.vp(1).vtls[0].apic.activity).toBe('running')
  })

  it('VTL1 enables an AP then starts its VTL0: the AP runs VTL1 first (§4.6 step 4)', () => {
    const h = makeEngine(2)
    inVtl1(h)
    expect(
      enableVpVtl(h.engine, 0, {
        ...input({ targetVtl: 1 }),
        context: validContext({ rip: 0x9000n }),
      })
    ).toBe(0)
    // StartVp(VTL1) is allowed once EnableVpVtl has been called, before the wake.
    expect(startVirtualProcessor(h.engine, 0, input())).toBe(0)
    handleWake(h.engine, 1)
    const ap = h.engine.vp(1)
    expect(ap.vtl1).toBeDefined()
    expect(ap.exitVtl).toBe(1)
    expect(ap.vtls[1].registers.rip).toBe(0x9000n)
    expect(ap.vtls[0].registers.rip).toBe(0x7c00n)
  })

  it('VTL1 may start a lower VTL even with deny_lower_vtl_startup', () => {
    const h = makeEngine(2)
    inVtl1(h)
    h.engine.shared.setPartitionField(PartitionField.DenyLowerVtlStartup, 1)
    expect(startVirtualProcessor(h.engine, 0, input())).toBe(0)
  })
})
