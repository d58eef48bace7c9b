// Long commands (many steps, big ranges) run in slices: after each step a command checks its
// slice, and once it used SLICE_MS it gives the event loop a turn, so /healthz, other TDs and the
// request timeout are served while it runs. The TD itself stays consistent: its queue holds every
// other command of it until this one finished.

/** Main-thread time a command may hold the event loop before it yields (ms). */
export const SLICE_MS = 10

const turn = (): Promise<void> =>
  new Promise((resolve) => {
    setImmediate(resolve)
  })

/** One command's time slice. */
export class TimeSlice {
  private start = performance.now()

  constructor(private readonly sliceMs = SLICE_MS) {}

  /** A turn of the event loop to await when the slice is used up; otherwise undefined. */
  due(): Promise<void> | undefined {
    if (performance.now() - this.start < this.sliceMs) return undefined
    return turn().then(() => {
      this.start = performance.now()
    })
  }
}
