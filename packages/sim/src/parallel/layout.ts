import {
  PartitionField,
  PlainSharedVsmState,
  VtlError,
  WakeReason,
  sharedVsmStateBytes,
} from '@vtl/core'

/**
 * Where `PlainSharedVsmState` keeps each Atomics-accessed word, found by driving a plain state over
 * a scratch buffer and seeing which word each call changes. Core owns the layout and does not
 * export its offsets; probing keeps this package from restating them, and a layout change in core
 * either still probes cleanly or fails loudly here (every probe must change exactly one word).
 */
export interface SharedVsmLayout {
  partitionLock: number
  /** Word index of each `PartitionField`. */
  fields: readonly number[]
  /** Per-VP words: index of VP 0's word; VP v's is `index + v * vpStride`. */
  vpStride: number
  vpLock: number
  enableCalled: number
  started: number
  activeVtl: number
  wake: readonly [number, number]
  /** The word holding both TLB-lock bits and the bit of each VTL. */
  tlb: number
  tlbBit: readonly [number, number]
  /** The first of each VTL's 8 requested-vector words (vector v → word + (v >>> 5), bit v & 31). */
  irr: readonly [number, number]
}

function probeError(what: string): VtlError {
  return new VtlError('E_INVARIANT', `shared VSM layout probe: ${what}`)
}

let probed: SharedVsmLayout | undefined

/**
 * The word offsets (probed once). Two VPs give every per-VP offset and the stride; the VP count
 * only moves the regions after the per-VP words (context records, IO bitmaps), which are never
 * touched with Atomics.
 */
export function sharedVsmLayout(): SharedVsmLayout {
  probed ??= probe()
  return probed
}

function probe(): SharedVsmLayout {
  const probeVps = 2
  const bytes = sharedVsmStateBytes(probeVps)
  const buffer = new ArrayBuffer(bytes)
  const words = new Int32Array(buffer, 0, bytes >>> 2)
  const plain = new PlainSharedVsmState(probeVps, buffer)

  /** Runs `action` on a zeroed state and returns the word it changed and that word's value. */
  const changed = (what: string, action: () => void): [number, number] => {
    words.fill(0)
    action()
    let found = -1
    for (let i = 0; i < words.length; i++) {
      if (words[i] === 0) continue
      if (found !== -1) throw probeError(`${what} changed more than one word`)
      found = i
    }
    if (found === -1) throw probeError(`${what} changed nothing`)
    return [found, words[found] ?? 0]
  }
  const word = (what: string, action: () => void): number => changed(what, action)[0]

  /** VP 0's word and the stride to VP 1's. */
  const perVp = (what: string, action: (vp: number) => void): [number, number] => {
    const first = word(`${what} (VP 0)`, () => {
      action(0)
    })
    const second = word(`${what} (VP 1)`, () => {
      action(1)
    })
    return [first, second - first]
  }

  const partitionLock = word('lockPartition', () => {
    plain.lockPartition()
  })
  const fields = Object.values(PartitionField)
    .sort((a, b) => a - b)
    .map((field) =>
      word(`partition field ${field}`, () => {
        plain.setPartitionField(field, 1)
      })
    )
  const strides = new Set<number>()
  const vp = (what: string, action: (vp: number) => void): number => {
    const [index, stride] = perVp(what, action)
    strides.add(stride)
    return index
  }
  const vpLock = vp('lockVp', (v) => {
    plain.lockVp(v)
  })
  const enableCalled = vp('setVtl1EnableCalled', (v) => {
    plain.setVtl1EnableCalled(v, true)
  })
  const started = vp('compareExchangeStarted', (v) => {
    plain.compareExchangeStarted(v, false, true)
  })
  const activeVtl = vp('setActiveVtl', (v) => {
    plain.setActiveVtl(v, 1)
  })
  const wake0 = vp('wake VTL0', (v) => {
    plain.wake(v, 0, WakeReason.Extint)
  })
  const wake1 = vp('wake VTL1', (v) => {
    plain.wake(v, 1, WakeReason.Extint)
  })
  const tlb0 = vp('setTlbLocked VTL0', (v) => {
    plain.setTlbLocked(v, 0, true)
  })
  const tlb1 = vp('setTlbLocked VTL1', (v) => {
    plain.setTlbLocked(v, 1, true)
  })
  if (tlb0 !== tlb1) throw probeError('the TLB-lock bits are not in one word')
  const tlbBit = [
    changed('TLB bit VTL0', () => {
      plain.setTlbLocked(0, 0, true)
    })[1],
    changed('TLB bit VTL1', () => {
      plain.setTlbLocked(0, 1, true)
    })[1],
  ] as const
  const irr = ([0, 1] as const).map((vtl) => {
    const base = vp(`requestInterrupt VTL${vtl}`, (v) => {
      plain.requestInterrupt(v, vtl, 0)
    })
    for (let i = 1; i < 8; i++) {
      const [index, value] = changed(`requestInterrupt VTL${vtl} vector ${i * 32 + 1}`, () => {
        plain.requestInterrupt(0, vtl, i * 32 + 1)
      })
      if (index !== base + i || value !== 2) throw probeError('requested vectors are not a bitmap')
    }
    return base
  })
  if (strides.size !== 1) throw probeError('per-VP words do not share one stride')
  const [vpStride] = [...strides]
  const [irr0, irr1] = irr
  if (vpStride === undefined || irr0 === undefined || irr1 === undefined) throw probeError('empty')
  return {
    partitionLock,
    fields,
    vpStride,
    vpLock,
    enableCalled,
    started,
    activeVtl,
    wake: [wake0, wake1],
    tlb: tlb0,
    tlbBit,
    irr: [irr0, irr1],
  }
}
