import type { Worker } from 'node:worker_threads'
import { VtlError } from '@vtl/core'
import { SimTd } from '../td/sim-td.js'
import { AtomicSharedVsmState } from './atomic-shared-state.js'
import { HostChannel, HostOwner } from './host-channel.js'
import { RunControl, type CounterName } from './run-control.js'
import { nextMessage, startWorker } from './worker-thread.js'
import { checkWorkload, protectionPage, type Workload } from './workload.js'

export interface ParallelRunOptions {
  /** VPs of the TD (1..1024). */
  vps: number
  /** Worker threads (each runs a contiguous block of VPs, `ownedVps`). */
  workers: number
  workload: Workload
  /** Give up (close the host channel, terminate the workers) after this long (default 60 s). */
  timeoutMs?: number
  /**
   * Whole runs on fresh TDs before the reported one, on the same threads (default 0): the
   * measured run then starts with the workers' code already compiled.
   */
  warmupRuns?: number
}

/**
 * The VPs worker `index` runs: a contiguous block, so that the per-VP words of different workers
 * share as few cache lines as possible (each VP's words are 100 contiguous bytes).
 */
export function ownedVps(index: number, workers: number, vpCount: number): number[] {
  const from = Math.floor((index * vpCount) / workers)
  const to = Math.floor(((index + 1) * vpCount) / workers)
  return Array.from({ length: to - from }, (_, i) => from + i)
}

/** The worker that runs `vp` (the inverse of `ownedVps`). */
export function workerOf(vp: number, workers: number, vpCount: number): number {
  for (let index = 0; index < workers; index++) {
    if (vp < Math.floor(((index + 1) * vpCount) / workers)) return index
  }
  return workers - 1
}

/** What the main thread hands a worker (structured-cloned; the buffers are shared). */
export interface WorkerInput {
  index: number
  workers: number
  vpCount: number
  stateBuffer: SharedArrayBuffer
  channelBuffer: SharedArrayBuffer
  controlBuffer: SharedArrayBuffer
  workload: Workload
}

export interface VpOutcome {
  vp: number
  /** VTL1 Active on the VP after the final wake drain. */
  active: boolean
  exitVtl: 0 | 1
  /** VTL0's LAPIC is running (the VP was started). */
  running: boolean
  /**
   * A StartVirtualProcessor(VTL1) context reached the VP while VTL1 was not Active: it overwrote
   * a pending EnableVpVtl context (vsm-on-tdx.md §13.8), so VTL1 never turns Active there.
   */
  vtl1StartedInactive: boolean
}

export type WorkerResult =
  | {
      kind: 'result'
      index: number
      vps: VpOutcome[]
      violations: string[]
      hostCalls: number
    }
  | { kind: 'error'; message: string }

export interface ParallelRunResult {
  /** Wall time from the start signal until every worker finished its steps (ms). */
  elapsedMs: number
  /** Guest steps that ran (a VP that is not started does not step). */
  steps: number
  counters: Record<CounterName, number>
  vps: VpOutcome[]
  /** Everything a worker saw that breaks a rule (empty on a correct run). */
  violations: string[]
  /** Requests the host owner served (hypercall forwards and protection changes). */
  hostRequests: number
  /** The TD on the owner thread: its shared state view, GPA space and hypervisor. */
  td: SimTd
  shared: AtomicSharedVsmState
  control: RunControl
  channel: HostChannel
}

// From sources (tests, benchmarks) the worker is TypeScript; from the built package it is
// dist/parallel/worker.js (a tsup entry).
const WORKER_URL = import.meta.url.endsWith('.ts')
  ? new URL('./worker.ts', import.meta.url)
  : new URL('./parallel/worker.js', import.meta.url)

/**
 * Runs a TD's VPs on `workers` worker threads. The main thread builds the TD (SimTd: software TDX
 * module, GPA space, untrusted hypervisor) with an `AtomicSharedVsmState`, so its engine
 * initialises the shared words; each worker attaches its own engine to the same buffer. The main
 * thread then owns the host: it serves the workers' hypercall forwards and protection changes one
 * at a time over the host channel and publishes the permission snapshot, until every worker has
 * done its steps. The workers then drain their wakes, check the final state and report.
 */
export async function runParallel(options: ParallelRunOptions): Promise<ParallelRunResult> {
  checkWorkload(options.workload)
  const pool = new ParallelPool(options.workers, options.vps)
  try {
    // Warm-up runs on fresh TDs: the same threads then run the measured one with compiled code.
    for (let run = 0; run < (options.warmupRuns ?? 0); run++) await pool.run(options)
    return await pool.run(options)
  } finally {
    await pool.close()
  }
}

/**
 * Worker threads kept for several runs (each on a fresh TD), so that later runs start with
 * compiled code. Idle pools do not keep the process alive (the threads are unref'd between runs).
 */
export class ParallelPool {
  readonly workers: number
  private readonly threads: Worker[]

  constructor(workers: number, vps: number) {
    if (!Number.isInteger(workers) || workers < 1 || workers > vps) {
      throw new VtlError('E_FIELD_RANGE', `workers must be 1..${vps}, got ${workers}`, {
        field: 'workers',
      })
    }
    this.workers = workers
    this.threads = Array.from({ length: workers }, () => startWorker(WORKER_URL))
    for (const thread of this.threads) thread.unref()
  }

  /** One run of `options` (its `workers` must be this pool's; `warmupRuns` is ignored). */
  async run(options: ParallelRunOptions): Promise<ParallelRunResult> {
    if (options.workers !== this.workers) {
      throw new VtlError('E_INVALID_VALUE', `this pool has ${this.workers} workers`, {
        field: 'workers',
      })
    }
    for (const thread of this.threads) thread.ref()
    try {
      return await runOnce(options, this.threads)
    } finally {
      for (const thread of this.threads) thread.unref()
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.terminate()))
  }
}

async function runOnce(options: ParallelRunOptions, threads: Worker[]): Promise<ParallelRunResult> {
  const { vps, workers } = options
  checkWorkload(options.workload)
  if (options.workers > vps) {
    throw new VtlError('E_FIELD_RANGE', `workers must be 1..${vps}, got ${workers}`, {
      field: 'workers',
    })
  }
  const pages = protectionPage(vps)
  const shared = new AtomicSharedVsmState(vps)
  const td = new SimTd({ vps, memory: BigInt(pages) * 4096n, shared })
  const channel = new HostChannel(pages)
  const owner = new HostOwner(channel, {
    hypervisor: td.hypervisor,
    protection: td.space,
    permissions: (gpn) => td.space.stateOf(gpn * 4096n),
  })
  const control = new RunControl(vps)
  const ready = threads.map((thread) => nextMessage<{ kind?: string }>(thread))
  threads.forEach((thread, index) => {
    const input: WorkerInput = {
      index,
      workers,
      vpCount: vps,
      stateBuffer: shared.buffer,
      channelBuffer: channel.buffer,
      controlBuffer: control.buffer,
      workload: options.workload,
    }
    thread.postMessage(input)
  })
  for (const r of await Promise.all(ready)) {
    if (r.kind !== 'ready') {
      throw new VtlError('E_INVARIANT', `worker failed to start: ${JSON.stringify(r)}`)
    }
  }
  const results = Promise.all(threads.map((thread) => nextMessage<WorkerResult>(thread)))
  control.start()
  try {
    owner.serve(() => control.opsDone() >= workers, Date.now() + (options.timeoutMs ?? 60_000))
  } catch (error) {
    owner.close()
    // Nobody reads the answers now; a worker terminated later must not reject them unhandled.
    results.catch(() => undefined)
    throw error
  }
  // The workers' own finish times: how soon this thread notices them is not the run's work.
  const elapsedMs = control.elapsedMs()
  const outcomes = await results
  const violations: string[] = []
  const vpOutcomes: VpOutcome[] = []
  for (const outcome of outcomes) {
    if (outcome.kind === 'error') throw new VtlError('E_INVARIANT', outcome.message)
    violations.push(...outcome.violations)
    vpOutcomes.push(...outcome.vps)
  }
  vpOutcomes.sort((a, b) => a.vp - b.vp)
  const counters = control.counters()
  return {
    elapsedMs,
    steps: counters.Steps,
    counters,
    vps: vpOutcomes,
    violations,
    hostRequests: owner.served,
    td,
    shared,
    control,
    channel,
  }
}
