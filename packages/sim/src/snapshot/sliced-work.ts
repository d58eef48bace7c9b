// Saving and restoring a big TD takes long (a 1024-VP TD: hundreds of ms). Its work is written
// once, as a generator that yields between its parts (a VP, a trace event, a memory run): the
// synchronous API runs it to the end in one go, the sliced one gives the event loop a turn
// whenever a slice of time is used up, so a server stays responsive meanwhile.

/** Work that may be interrupted wherever it yields; it returns its value at the end. */
export type SlicedWork<T> = Generator<undefined, T, undefined>

/** Main-thread time sliced work holds the event loop before it yields (ms). */
export const SNAPSHOT_SLICE_MS = 5

/** How sliced work shares the event loop. */
export interface SliceOptions {
  /** Time it may run before it yields (default `SNAPSHOT_SLICE_MS`). */
  sliceMs?: number
}

/** Runs the work to its end in one go. */
export function finish<T>(work: SlicedWork<T>): T {
  for (;;) {
    const step = work.next()
    if (step.done) return step.value
  }
}

const turn = (): Promise<void> =>
  new Promise((resolve) => {
    setImmediate(resolve)
  })

/** Runs the work, giving the event loop a turn (`setImmediate`) after each used-up slice. */
export async function finishSliced<T>(
  work: SlicedWork<T>,
  { sliceMs = SNAPSHOT_SLICE_MS }: SliceOptions = {}
): Promise<T> {
  let start = performance.now()
  for (;;) {
    const step = work.next()
    if (step.done) return step.value
    if (performance.now() - start >= sliceMs) {
      await turn()
      start = performance.now()
    }
  }
}
