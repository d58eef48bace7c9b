import { recorded, type TdEntry } from './td-entry.js'
import type { TraceEvent } from '@vtl/sim'
import type { TraceListener } from './td-types.js'

/** Hands each command's new trace events to observers, and tells open streams when to end. */
export class TraceFanout {
  private readonly listeners = new Set<TraceListener>()
  private readonly endListeners = new Set<(td: string | undefined) => void>()
  private closed = false

  /** Answers the unsubscribe function. */
  subscribe(listener: TraceListener): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  /** `listener` gets a deleted TD's id, or `undefined` when every stream closes. */
  onEnd(listener: (td: string | undefined) => void): () => void {
    this.endListeners.add(listener)
    return () => {
      this.endListeners.delete(listener)
    }
  }

  /** A TD was deleted: its streams end. */
  ended(td: string): void {
    for (const listener of this.endListeners) listener(td)
  }

  /** Ends every stream; `streaming` turns false. */
  close(): void {
    this.closed = true
    for (const listener of this.endListeners) listener(undefined)
  }

  /** False once `close` ran. */
  get streaming(): boolean {
    return !this.closed
  }

  /** The trace events `entry` recorded since the last call (what its command produced). */
  take(entry: TdEntry): readonly TraceEvent[] {
    const trace = entry.td.trace
    const total = recorded(trace)
    const fresh = total - entry.seen
    entry.seen = total
    return fresh <= 0 || this.listeners.size === 0 ? [] : trace.latest(fresh)
  }

  /** Hands a command's trace events to every listener (once the command is durable). */
  publish(td: string, events: readonly TraceEvent[]): void {
    if (events.length === 0) return
    for (const listener of this.listeners) {
      // The command already committed: an observer's failure must not fail it.
      try {
        listener(td, events)
      } catch {
        // ignored: observers report their own failures
      }
    }
  }
}
