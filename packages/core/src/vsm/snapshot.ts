import type { VsmEngine } from './engine.js'
import { PartitionField } from './shared-state.js'

/**
 * A deep copy of every engine state a guest can change (the partition words, each VP's shared
 * words and its VP-owned state), for tests that assert a refused call changed nothing and for
 * inspection. The IO-intercept bitmaps are left out (128 Ki bits); use `SharedVsmState.ioIntercept`.
 */
export function snapshotEngine(engine: VsmEngine): unknown {
  const { shared } = engine
  const partition = Object.fromEntries(
    Object.entries(PartitionField).map(([name, field]) => [name, shared.partitionField(field)])
  )
  const vps = engine.vps.map((vp) => ({
    shared: {
      vtl1EnableCalled: shared.vtl1EnableCalled(vp.index),
      started: shared.started(vp.index),
      activeVtl: shared.activeVtl(vp.index),
      wake: [shared.wakeReasons(vp.index, 0), shared.wakeReasons(vp.index, 1)],
      pending: [shared.pendingOperation(vp.index, 0), shared.pendingOperation(vp.index, 1)],
      tlbLocked: [shared.tlbLocked(vp.index, 0), shared.tlbLocked(vp.index, 1)],
      requested: [0, 1].map((vtl) => {
        const words = new Uint32Array(8)
        // Read without consuming: take into a copy, then put every bit back.
        shared.takeRequestedInterrupts(vp.index, vtl as 0 | 1, words)
        words.forEach((word, i) => {
          for (let bit = 0; bit < 32; bit++) {
            if ((word >>> bit) & 1) shared.requestInterrupt(vp.index, vtl as 0 | 1, i * 32 + bit)
          }
        })
        return Array.from(words)
      }),
    },
    exitVtl: vp.exitVtl,
    tlbWait: vp.tlbWait,
    tlbWaitReleases: vp.tlbWaitReleases,
    vtl1: vp.vtl1,
    vtls: vp.vtls.map((v) => ({
      ...v,
      // The APIC's fields as plain data (structuredClone below copies the vector sets).
      apic: {
        irr: v.apic.irr,
        isr: v.apic.isr,
        tpr: v.apic.tpr,
        nmiPending: v.apic.nmiPending,
        activity: v.apic.activity,
      },
    })),
    registers: vp.shared,
  }))
  return structuredClone({ partition, vps })
}
