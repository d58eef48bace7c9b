import { Worker } from 'node:worker_threads'
import { VtlError } from '@vtl/core'
import { SimTd } from '../td/sim-td.js'
import { AtomicSharedVsmState } from './atomic-shared-state.js'
import { HostChannel, HostOwner } from './host-channel.js'
import { RunControl, type CounterName } from './run-control.js'
import { protectionPage, type Workload } from './workload.js'

export interface ParallelRunOptions {
  /** VPs of the TD (1..1024). */
  vps: number
  /** Worker threads (each runs the VPs `vp % workers === index`). */
  workers: number
  workload: Workload
  /** Give up (close the host channel, terminate the workers) after this long (default 60 s). */
  timeoutMs?: number
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

const WORKER_URL = new URL('./worker.ts', import.meta.url)
const BOOT_URL = new URL('./boot.mjs', import.meta.url)

/**
 * Starts a worker thread on a TypeScript module: boot.mjs registers tsx in the new thread and
 * imports `entry`; `--conditions=@vtl/source` makes `@vtl/*` resolve to sources, as in the tests
 * (vite) and the benchmarks (tsx). `data` arrives as `workerData` (plus `entry`).
 */
export function startTsWorker(entry: URL, data: object): Worker {
  return new Worker(BOOT_URL, {
    workerData: { ...data, entry: entry.href },
    execArgv: ['--conditions=@vtl/source'],
  })
}

function startWorker(input: WorkerInput): Worker {
  return startTsWorker(WORKER_URL, input)
}

/** The worker's next message (rejects on a worker error). */
export function message(worker: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(error)
    }
    worker.once('message', (value) => {
      worker.off('error', onError)
      resolve(value)
    })
    worker.once('error', onError)
  })
}

/**
 * Runs a TD's VPs on `workers` worker threads. The main thread builds the TD (SimTd: software TDX
 * module, GPA space, untrusted hypervisor) with an `AtomicSharedVsmState`, so its engine
 * initialises the shared words; each worker attaches its own engine to the same buffer. The main
 * thread then owns the host: it serves the workers' hypercall forwards and protection changes one
 * at a time over the host channel and publishes the permission snapshot, until every worker has
 * done its steps. The workers then drain their wakes, check the final state and report.
 */
export async function runParallel(options: ParallelRunOptions): Promise<ParallelRunResult> {
  const { vps, workers } = options
  if (!Number.isInteger(workers) || workers < 1 || workers > vps) {
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
  const threads: Worker[] = []
  try {
    for (let index = 0; index < workers; index++) {
      threads.push(
        startWorker({
          index,
          workers,
          vpCount: vps,
          stateBuffer: shared.buffer,
          channelBuffer: channel.buffer,
          controlBuffer: control.buffer,
          workload: options.workload,
        })
      )
    }
    const ready = await Promise.all(threads.map(message))
    for (const r of ready) {
      if ((r as { kind?: string }).kind !== 'ready') {
        throw new VtlError('E_INVARIANT', `worker failed to start: ${JSON.stringify(r)}`)
      }
    }
    const results = threads.map(message)
    const started = performance.now()
    control.start()
    try {
      owner.serve(() => control.opsDone() >= workers, Date.now() + (options.timeoutMs ?? 60_000))
    } catch (error) {
      owner.close()
      throw error
    }
    const elapsedMs = performance.now() - started
    const outcomes = (await Promise.all(results)) as WorkerResult[]
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
  } finally {
    await Promise.all(threads.map((t) => t.terminate()))
  }
}
