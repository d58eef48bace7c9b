import { defineSuite } from '@vtl/bench-kit'
import {
  dispatchHypercall,
  encodeEnablePartitionVtl,
  encodeEnableVpVtl,
  encodeHypercallControl,
  enablePartitionVtlFlags,
  handleWake,
  HV_PARTITION_ID_SELF,
  HV_VP_INDEX_SELF,
  HvStatus,
  longModeInitialVpContextX64,
  VsmEngine,
  type HypercallRequest,
  type VsmPorts,
} from '../src/index.js'

// No-op ports: every effect succeeds and costs nothing, so the figures are the engine's own.
const ports: VsmPorts = {
  hypervisor: { hypercall: () => ({ result: 0n }) },
  vp: {
    writeVtlRegisters: () => HvStatus.Success,
    wakeVp: () => undefined,
    injectException: () => undefined,
  },
  protection: {
    changeDefaultVtlProtections: () => HvStatus.Success,
    changeVtlProtections: () => HvStatus.Success,
    changeHostVisibility: (_vtl, gpns) => ({ status: HvStatus.Success, processed: gpns.length }),
    queryHostVisibility: (gpns) => ({ status: HvStatus.Success, shared: gpns.map(() => false) }),
  },
}

const context = longModeInitialVpContextX64({
  rip: 0xffff_f800_0010_0000n,
  rsp: 0xffff_f800_0020_0000n,
})

/** A partition whose BSP has enabled VTL1 (§4.6 steps 1–2) and handled its wake, still in VTL0. */
function bootedEngine(vpCount: number): VsmEngine {
  const engine = new VsmEngine({ vpCount, ports })
  const partition = encodeEnablePartitionVtl({
    partitionId: HV_PARTITION_ID_SELF,
    targetVtl: 1,
    flags: enablePartitionVtlFlags(),
  })
  const self = encodeEnableVpVtl({
    partitionId: HV_PARTITION_ID_SELF,
    vpIndex: HV_VP_INDEX_SELF,
    targetVtl: 1,
    context,
  })
  for (const [control, input] of [
    [0x0dn, partition],
    [0x0fn, self],
  ] as const) {
    const outcome = dispatchHypercall(engine, { vp: 0, control, input })
    if (outcome.kind !== 'completed' || outcome.status !== HvStatus.Success) {
      throw new Error(
        `bench set-up failed: ${JSON.stringify(outcome, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v))}`
      )
    }
  }
  handleWake(engine, 0)
  return engine
}

// engine.empty-dispatch: a fast FlushVirtualAddressSpace(all processors) from VTL0 with no TLB
// lock held — the generic checks, a handler that changes nothing, the result word and RIP.
const emptyEngine = bootedEngine(1)
const emptyRequest: HypercallRequest = {
  vp: 0,
  control: encodeHypercallControl({
    code: 0x0002,
    fast: true,
    variableHeaderSize: 0,
    nested: false,
    repCount: 0,
    repStart: 0,
  }),
  fastRegisters: [0n, 0x1n, 0n, 0n],
}

// engine.vtl-round-trip: VtlCall from VTL0 then a fast VtlReturn from VTL1 on an Active VP.
const tripEngine = bootedEngine(1)
const vtlCall: HypercallRequest = { vp: 0, control: 0x11n, vtlInput: 0n }
const vtlReturn: HypercallRequest = { vp: 0, control: 0x12n, vtlInput: 1n }

// engine.dispatch-enable-vp-vtl: VTL1 on the BSP enables VTL1 on AP n from a raw 240-byte input.
// Many VPs instead of a reset per op: after the last AP, only the shared words the call set
// (enable flag, pending context, wake word) are cleared, once per VP_COUNT - 1 dispatches.
const VP_COUNT = 1024
const enableEngine = bootedEngine(VP_COUNT)
dispatchHypercall(enableEngine, vtlCall)
const pages = Array.from({ length: VP_COUNT }, (_, n) =>
  encodeEnableVpVtl({ partitionId: HV_PARTITION_ID_SELF, vpIndex: n, targetVtl: 1, context })
)
const requests: HypercallRequest[] = pages.map((input) => ({ vp: 0, control: 0x0fn, input }))
const scratch = new Uint8Array(224)
let nextAp = 1

function dispatchEnableVpVtl(): unknown {
  if (nextAp === VP_COUNT) {
    const { shared } = enableEngine
    for (let n = 1; n < VP_COUNT; n++) {
      shared.setVtl1EnableCalled(n, false)
      shared.takePendingContext(n, 1, scratch)
      shared.takeWakeReasons(n, 1)
    }
    nextAp = 1
  }
  const request = requests[nextAp++] as HypercallRequest
  return dispatchHypercall(enableEngine, request)
}

export default defineSuite({
  name: 'engine',
  cases: [
    {
      id: 'engine.empty-dispatch',
      kind: 'throughput',
      baselineOnly: true,
      note: 'fast FlushVirtualAddressSpace(all processors) from VTL0: generic checks, a no-op handler, result word, RIP',
      op: () => dispatchHypercall(emptyEngine, emptyRequest),
    },
    {
      id: 'engine.dispatch-enable-vp-vtl',
      kind: 'throughput',
      baseline: 'engine.empty-dispatch',
      note: `EnableVpVtl from raw 240-byte input pages, VTL1 on the BSP enabling AP n of ${VP_COUNT}; the shared enable/pending/wake words are cleared once per ${VP_COUNT - 1} ops (amortised in the figure); no-op ports`,
      op: dispatchEnableVpVtl,
    },
    {
      id: 'engine.vtl-round-trip',
      kind: 'throughput',
      baseline: 'engine.empty-dispatch',
      note: 'VtlCall + fast VtlReturn through dispatchHypercall with no-op ports; target: at most 10× the cost of an empty dispatch (ratio ≥ 0.1)',
      op: () => {
        dispatchHypercall(tripEngine, vtlCall)
        return dispatchHypercall(tripEngine, vtlReturn)
      },
    },
  ],
})
