import { stat } from 'node:fs/promises'
import { awaitWorker, startWorker, type ParseProgress } from '@vtl/sim'
import { loadOne, type Loaded } from './scenarios.js'

// `vtl sim check`: each file parsed and validated, never run. A large check on a terminal runs on
// a worker thread, so the progress bar keeps moving while one long YAML parse holds that thread.

/** One file's verdict, as `sim check --json` prints it. */
export type CheckSummary =
  | { file: string; valid: true; scenario: string; steps: number; vps: number }
  | { file: string; valid: false; error: string }

/** What a check reports while it works, and each verdict as it comes. */
export type CheckEvent =
  | { type: 'progress'; file: string; index: number; progress: ParseProgress }
  | { type: 'checked'; summary: CheckSummary }

/** A file's verdict from its load (a file that cannot be read is a verdict, not a throw). */
function summaryOf(loaded: Loaded): CheckSummary {
  if ('error' in loaded) return { file: loaded.file, valid: false, error: loaded.error.message }
  const { scenario } = loaded
  return {
    file: loaded.file,
    valid: true,
    scenario: scenario.name,
    steps: scenario.steps.length,
    vps: scenario.partition.vps,
  }
}

/** Every file, one after the other, in this thread. */
export async function checkScenarioFiles(
  files: readonly string[],
  onEvent: (event: CheckEvent) => void = () => undefined
): Promise<CheckSummary[]> {
  const out: CheckSummary[] = []
  for (const [index, file] of files.entries()) {
    const summary = summaryOf(
      await loadOne(file, (progress) => {
        onEvent({ type: 'progress', file, index, progress })
      })
    )
    onEvent({ type: 'checked', summary })
    out.push(summary)
  }
  return out
}

/** The worker's messages: the events, then `done` (or the error that stopped it). */
export type CheckWorkerMessage = CheckEvent | { type: 'done' } | { type: 'failed'; message: string }

// From sources (tests) the entry is TypeScript; from the build it is dist/check-worker.js, a tsup
// entry next to main.js.
const ENTRY = new URL(
  import.meta.url.endsWith('.ts') ? './check-worker.ts' : './check-worker.js',
  import.meta.url
)

/** Every file checked on a worker thread; `onEvent` runs on this thread as events arrive. */
export async function checkScenarioFilesInWorker(
  files: readonly string[],
  onEvent: (event: CheckEvent) => void
): Promise<CheckSummary[]> {
  const worker = startWorker(ENTRY)
  const out: CheckSummary[] = []
  try {
    const done = awaitWorker<undefined>(worker, (posted, finish) => {
      const message = posted as CheckWorkerMessage
      if (message.type === 'done') finish(undefined)
      else if (message.type === 'failed') throw new Error(message.message)
      else {
        if (message.type === 'checked') out.push(message.summary)
        onEvent(message)
      }
    })
    worker.postMessage(files)
    await done
  } finally {
    await worker.terminate()
  }
  return out
}

/** Files this large in all are checked on a worker with a progress bar (on a terminal). */
export const PROGRESS_BYTES = 1 << 20

/** The bytes of the files (a file that cannot be read counts 0: its check says why). */
export async function totalBytes(files: readonly string[]): Promise<number> {
  const sizes = await Promise.all(
    files.map((f) =>
      stat(f).then(
        (s) => s.size,
        () => 0
      )
    )
  )
  return sizes.reduce((a, b) => a + b, 0)
}
