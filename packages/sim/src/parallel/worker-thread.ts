import { Worker } from 'node:worker_threads'

// Worker threads start and answer the same way everywhere (the parallel runner, `vtl sim check`,
// vtld's scenario pool): from sources the entry is TypeScript and boots through boot.mjs (tsx),
// from a build it is a JavaScript file next to the caller's bundle; a worker that fails or exits
// before answering rejects the wait instead of leaving it pending forever.

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

/** Starts `entry` with `data` as `workerData`: a `.ts` entry through tsx, any other as it is. */
export function startWorker(entry: URL, data: object = {}): Worker {
  return entry.pathname.endsWith('.ts')
    ? startTsWorker(entry, data)
    : new Worker(entry, { workerData: data })
}

/**
 * Hands the worker's messages (structured clones: the caller knows their type) to `onMessage`
 * until it calls `finish`. Rejects with what `onMessage` throws, the worker's error, or its exit
 * before `finish`. The listeners are removed once it settles, so a pooled thread can be awaited
 * again.
 */
export function awaitWorker<T>(
  worker: Worker,
  onMessage: (message: unknown, finish: (value: T) => void) => void
): Promise<T> {
  return new Promise((resolve, reject) => {
    const settle = (): void => {
      worker.off('message', onValue)
      worker.off('error', onError)
      worker.off('exit', onExit)
    }
    const finish = (value: T): void => {
      settle()
      resolve(value)
    }
    const onError = (error: unknown): void => {
      settle()
      reject(error instanceof Error ? error : new Error(String(error)))
    }
    const onValue = (message: unknown): void => {
      try {
        onMessage(message, finish)
      } catch (error) {
        onError(error)
      }
    }
    const onExit = (code: number): void => {
      onError(new Error(`the worker thread exited with code ${code} before it answered`))
    }
    worker.on('message', onValue)
    worker.on('error', onError)
    worker.on('exit', onExit)
  })
}

/** The worker's next message (rejects when the worker fails or exits first). */
export function nextMessage<T>(worker: Worker): Promise<T> {
  return awaitWorker<T>(worker, (message, finish) => {
    finish(message as T)
  })
}
