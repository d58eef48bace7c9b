import type { TraceEvent } from '@vtl/sim'
import { recorded, type TdEntry } from './td-entry.js'
import type { TraceListener } from './td-types.js'

/** One trace event as its SSE frame, serialised once for every stream that sends it. */
export interface TraceFrame {
  seq: number
  /** `event: trace`, `data: <the event as JSON>`, `id: <seq>` (hono's `writeSSE` order), a blank line. */
  text: string
}

/** The SSE frame of a trace event. */
export function traceFrame(event: TraceEvent): TraceFrame {
  return {
    seq: event.seq,
    text: `event: trace\ndata: ${JSON.stringify(event)}\nid: ${event.seq}\n\n`,
  }
}

/** Takes a TD's frames (one array shared by all of its streams: read it, never change it). */
export type FrameListener = (frames: readonly TraceFrame[]) => void

/**
 * Hands each command's new trace events to observers, and tells open streams when to end. Streams
 * subscribe per TD, so a command costs nothing for the streams of other TDs, and its events are
 * serialised once, whatever the number of streams that send them.
 */
export class TraceFanout {
  private readonly listeners = new Set<TraceListener>()
  private readonly streams = new Map<string, Set<FrameListener>>()
  private readonly endListeners = new Set<(td: string | undefined) => void>()
  private closed = false

  /** Every TD's events (metrics); answers the unsubscribe function. */
  subscribe(listener: TraceListener): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  /** One TD's events as SSE frames; answers the unsubscribe function. */
  subscribeFrames(td: string, listener: FrameListener): () => void {
    let set = this.streams.get(td)
    if (set === undefined) this.streams.set(td, (set = new Set()))
    set.add(listener)
    return () => {
      set.delete(listener)
      if (set.size === 0 && this.streams.get(td) === set) this.streams.delete(td)
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
    const wanted = this.listeners.size > 0 || this.streams.has(entry.meta.td)
    return fresh <= 0 || !wanted ? [] : trace.latest(fresh)
  }

  /** Hands a command's trace events to its observers (once the command is durable). */
  publish(td: string, events: readonly TraceEvent[]): void {
    if (events.length === 0) return
    // The command already committed: an observer's failure must not fail it.
    const streams = this.streams.get(td)
    if (streams !== undefined) {
      const frames = events.map(traceFrame)
      for (const listener of streams) {
        try {
          listener(frames)
        } catch {
          // ignored: observers report their own failures
        }
      }
    }
    for (const listener of this.listeners) {
      try {
        listener(td, events)
      } catch {
        // ignored: observers report their own failures
      }
    }
  }
}
