import { availableParallelism } from 'node:os'
import type { Worker } from 'node:worker_threads'
import { nextMessage, startWorker, type ScenarioReport } from '@vtl/sim'
import { ProblemError, type DaemonErrorCode } from './problem.js'
import type { ScenarioRunner } from './scenario-run.js'

// Scenario runs (POST /v1/scenarios/run) on worker threads, so a long scenario never holds up the
// event loop that serves the other requests.

/** One run: the scenario file's text (JSON or YAML: parseScenario reads both). */
export interface ScenarioJob {
  text: string
}

/** The worker's answer: the report, or the problem (an error cannot cross threads as itself). */
export type ScenarioReply =
  | { ok: true; report: ScenarioReport }
  | { ok: false; code: DaemonErrorCode | undefined; message: string }

// From sources (tests, tsx) the entry is TypeScript, booted through @vtl/sim's boot.mjs; from the
// build it is dist/scenario-worker-thread.js (a tsup entry next to main.js and index.js).
const ENTRY = new URL(
  import.meta.url.endsWith('.ts') ? './scenario-worker-thread.ts' : './scenario-worker-thread.js',
  import.meta.url
)

const shuttingDown = (): ProblemError =>
  new ProblemError('E_SHUTTING_DOWN', 'vtld is shutting down')

const cancelled = (): ProblemError =>
  new ProblemError('E_BAD_REQUEST', 'the client went away; the scenario run was stopped')

/** Bounds of the scenario pool. */
export interface ScenarioPoolLimits {
  /** Runs that may wait for a thread; one more is 429 `E_BUSY` (default 16). */
  maxQueue: number
  /** A run still going after this many ms is stopped (its thread replaced) with `E_TIMEOUT`. */
  timeoutMs: number
}

/**
 * A small pool of scenario threads: up to `size` started on demand and kept (unref'd while idle,
 * so they never keep the process alive); up to `maxQueue` runs wait for a free thread, more are
 * refused. A run whose client goes away, or that outlives `timeoutMs`, is stopped: its thread is
 * terminated and replaced, so abandoned runs never hold the pool. A thread that crashes is
 * replaced too.
 */
export class ScenarioWorkers {
  readonly size: number
  private readonly limits: ScenarioPoolLimits
  private readonly idle: Worker[] = []
  private readonly waiting: { resolve: (worker: Worker) => void; reject: (e: Error) => void }[] = []
  private readonly all = new Set<Worker>()
  private closed = false

  constructor(
    size = Math.max(1, Math.min(4, availableParallelism() - 1)),
    limits: Partial<ScenarioPoolLimits> = {}
  ) {
    this.size = size
    this.limits = { maxQueue: 16, timeoutMs: 30_000, ...limits }
  }

  /** Parses and runs a scenario on a worker thread; answers its report. */
  readonly runScenario: ScenarioRunner = async (text, _type, signal) => {
    const worker = await this.acquire(signal)
    worker.ref()
    let answer: ScenarioReply
    let timer: NodeJS.Timeout | undefined
    let onAbort: (() => void) | undefined
    try {
      const pending = nextMessage<ScenarioReply>(worker)
      worker.postMessage({ text } satisfies ScenarioJob)
      const stopped = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          reject(
            new ProblemError(
              'E_TIMEOUT',
              `the scenario ran longer than ${this.limits.timeoutMs} ms; stopped`
            )
          )
        }, this.limits.timeoutMs)
        onAbort = () => {
          reject(cancelled())
        }
        signal?.addEventListener('abort', onAbort, { once: true })
      })
      answer = await Promise.race([pending, stopped])
    } catch (error) {
      this.discard(worker)
      throw error
    } finally {
      clearTimeout(timer)
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
    }
    this.release(worker)
    if (answer.ok) return answer.report
    // The same problem as an in-thread run (runScenarioText decides it on the worker's side).
    throw answer.code === undefined
      ? new Error(answer.message)
      : new ProblemError(answer.code, answer.message)
  }

  private acquire(signal?: AbortSignal): Promise<Worker> {
    if (this.closed) return Promise.reject(shuttingDown())
    if (signal?.aborted === true) return Promise.reject(cancelled())
    const idle = this.idle.pop()
    if (idle !== undefined) return Promise.resolve(idle)
    if (this.all.size < this.size) return Promise.resolve(this.start())
    if (this.waiting.length >= this.limits.maxQueue) {
      return Promise.reject(
        new ProblemError(
          'E_BUSY',
          `every scenario thread is busy and ${this.limits.maxQueue} runs wait (maxQueue); retry later`
        )
      )
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (worker: Worker) => {
          signal?.removeEventListener('abort', leave)
          resolve(worker)
        },
        reject,
      }
      // A client that goes away while waiting leaves the queue.
      const leave = (): void => {
        const at = this.waiting.indexOf(waiter)
        if (at >= 0) this.waiting.splice(at, 1)
        reject(cancelled())
      }
      signal?.addEventListener('abort', leave, { once: true })
      this.waiting.push(waiter)
    })
  }

  /** Runs waiting for a thread now (tests, metrics). */
  get queued(): number {
    return this.waiting.length
  }

  private start(): Worker {
    const worker = startWorker(ENTRY)
    this.all.add(worker)
    return worker
  }

  private release(worker: Worker): void {
    const next = this.waiting.shift()
    if (next !== undefined) {
      next.resolve(worker)
      return
    }
    worker.unref()
    if (this.closed) void this.stop(worker)
    else this.idle.push(worker)
  }

  private discard(worker: Worker): void {
    void this.stop(worker)
    this.waiting.shift()?.resolve(this.start())
  }

  private async stop(worker: Worker): Promise<void> {
    this.all.delete(worker)
    await worker.terminate()
  }

  /**
   * Refuses new runs and stops every thread. vtld calls it once its listeners drained, so a run
   * still going is one whose request timed out: nobody waits for it (it fails if someone does).
   */
  async close(): Promise<void> {
    this.closed = true
    for (const waiter of this.waiting.splice(0)) waiter.reject(shuttingDown())
    this.idle.length = 0
    await Promise.all([...this.all].map((worker) => this.stop(worker)))
  }
}
