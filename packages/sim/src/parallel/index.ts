// Parallel mode: VPs on worker threads over a SharedArrayBuffer engine state (see README.md).
export { AtomicSharedVsmState, atomicSharedVsmStateBytes } from './atomic-shared-state.js'
export { LockWord, lockWord, tryLockWord, unlockWord } from './atomic-lock.js'
export { sharedVsmLayout } from './layout.js'
export type { SharedVsmLayout } from './layout.js'
export {
  HOST_CHANNEL_MAX_GPNS,
  HOST_CHANNEL_MAX_INPUT,
  HostChannel,
  HostClient,
  HostOwner,
  decodePermission,
} from './host-channel.js'
export type { HostOwnerOptions, PagePermission, PermissionSource } from './host-channel.js'
export { Counter, RunControl } from './run-control.js'
export type { CounterName } from './run-control.js'
export { ParallelPool, runParallel } from './runner.js'
export type { ParallelRunOptions, ParallelRunResult, VpOutcome } from './runner.js'
// Worker threads started and awaited one way (the runner, `vtl sim check`, vtld's scenario pool).
export { awaitWorker, nextMessage, startTsWorker, startWorker } from './worker-thread.js'
export { flagsForVersion, protectionPage } from './workload.js'
export type { Workload } from './workload.js'
