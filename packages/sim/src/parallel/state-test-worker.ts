// Test helper thread for atomic-shared-state.test.ts: hammers one AtomicSharedVsmState from
// several threads at once and reports what it saw. Loaded through boot.mjs.
import { parentPort, workerData } from 'node:worker_threads'
import { PartitionField, PendingOperation } from '@vtl/core'
import { AtomicSharedVsmState } from './atomic-shared-state.js'

export interface StateTestInput {
  job: 'locks' | 'slots' | 'wake'
  index: number
  threads: number
  iterations: number
  buffer: SharedArrayBuffer
  /** Start together: each thread increments it, then spins until all have. */
  barrier: SharedArrayBuffer
}

export interface StateTestOutput {
  /** locks: nothing; slots: records taken and torn ones; wake: wake answers and taken words. */
  taken: number
  torn: number
  newBits: number
  takenWords: number[]
}

const input = workerData as StateTestInput
const state = new AtomicSharedVsmState(2, input.buffer)
const barrier = new Int32Array(input.barrier)
Atomics.add(barrier, 0, 1)
while (Atomics.load(barrier, 0) < input.threads) {
  // spin: the job must start on all threads at once
}

const out: StateTestOutput = { taken: 0, torn: 0, newBits: 0, takenWords: [] }
if (input.job === 'locks') {
  // A read-modify-write of plain words under each lock: lost updates would show in the totals.
  const fieldOf = PartitionField.DefaultVtl0Protections
  for (let i = 0; i < input.iterations; i++) {
    state.lockPartition()
    state.setPartitionField(fieldOf, state.partitionField(fieldOf) + 1)
    state.unlockPartition()
    state.lockVp(1)
    state.setActiveVtl(1, state.activeVtl(1) + 1)
    state.unlockVp(1)
  }
} else if (input.job === 'slots') {
  // Everyone overwrites VP 1's VTL1 slot with a record full of its own byte and takes records:
  // a taken record must be one writer's whole record.
  const mine = new Uint8Array(224).fill(input.index + 1)
  const into = new Uint8Array(224)
  for (let i = 0; i < input.iterations; i++) {
    state.setPendingContext(1, 1, PendingOperation.StartVp, mine)
    if (state.takePendingContext(1, 1, into) === PendingOperation.None) continue
    out.taken++
    const first = into[0]
    if (first === 0 || !into.every((b) => b === first)) out.torn++
  }
} else {
  // Each thread sets its own bits of VP 0's VTL1 wake word once each and takes the word now and
  // then: every set must be new and every bit must be taken exactly once overall.
  const bitsPerThread = Math.floor(32 / input.threads)
  for (let b = 0; b < bitsPerThread; b++) {
    const bit = input.index * bitsPerThread + b
    if (state.wake(0, 1, 1 << bit)) out.newBits++
    if (b % 3 === 0) {
      const word = state.takeWakeReasons(0, 1)
      if (word !== 0) out.takenWords.push(word)
    }
    for (let spin = 0; spin < input.iterations; spin++) {
      // let the other threads interleave
      state.wakeReasons(0, 1)
    }
  }
}
parentPort?.postMessage(out)
