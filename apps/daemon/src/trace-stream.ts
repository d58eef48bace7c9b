import type { Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { TraceEvent } from '@vtl/sim'
import { ProblemError } from './problem.js'
import type { TdService } from './td-service.js'

// GET /v1/tds/{id}/trace/events: the TD's trace events as server-sent events (`event: trace`,
// `id: <seq>`), first the kept ones after Last-Event-ID (none with `from=now` and no
// Last-Event-ID), then live ones as commands produce them,
// with comment heartbeats. The stream ends when the client goes away, the TD is deleted or the
// daemon closes its streams.

/**
 * Events a stream may hold for a reader that does not keep up (default). Past it the reader is
 * dropped: its buffer is freed, it gets a final `event: dropped` (`{reason, lastSeq}`: resume with
 * Last-Event-ID) once it reads again, and the stream ends — or is cut after a grace period.
 */
export const SSE_MAX_BUFFERED = 4096

/** `Last-Event-ID` as a trace seq (-1: from the oldest kept event). */
function lastEventId(header: string | undefined): number {
  return header !== undefined && /^\d{1,15}$/.test(header.trim()) ? Number(header.trim()) : -1
}

export function traceStream(
  c: Context,
  tds: TdService,
  id: string,
  heartbeatMs: number,
  maxBuffered = SSE_MAX_BUFFERED,
  fromNow = false
): Response {
  const resumeFrom = c.req.header('last-event-id')
  let last = lastEventId(resumeFrom)
  const backlogWanted = !fromNow || resumeFrom !== undefined
  return streamSSE(c, async (stream) => {
    const pending: TraceEvent[] = []
    let ended = false
    let dropped = false
    // Read through a call: the flag changes in callbacks that control-flow analysis cannot see.
    const over = () => ended || dropped
    const droppedOnly = () => dropped && !ended
    let wake: (() => void) | undefined
    const finish = () => {
      ended = true
      wake?.()
    }
    // Subscribe before reading the backlog: an event in both is sent once (by seq), none is lost.
    const unsubscribe = tds.subscribe((td, events) => {
      if (td !== id || dropped) return
      if (pending.length + events.length > maxBuffered) {
        // A slow reader: free what it holds; it gets one final event when it reads again.
        dropped = true
        pending.length = 0
        setTimeout(() => {
          stream.abort()
        }, heartbeatMs).unref()
      } else pending.push(...events)
      wake?.()
    })
    const unwatch = tds.onEnd((td) => {
      if (td === undefined || td === id) finish()
    })
    stream.onAbort(finish)
    const send = async (events: readonly TraceEvent[]) => {
      for (const event of events) {
        if (over()) return
        if (event.seq <= last) continue
        await stream.writeSSE({
          event: 'trace',
          id: String(event.seq),
          data: JSON.stringify(event),
        })
        last = event.seq
      }
    }
    try {
      let backlog: TraceEvent[]
      try {
        // Asked for even when not wanted (then none): it tells a TD deleted in between.
        backlog = await tds.traceEvents(id, backlogWanted ? last : Number.MAX_SAFE_INTEGER)
      } catch (error) {
        // Deleted (force) between the request and the first read: the stream just ends.
        if (error instanceof ProblemError && error.code === 'E_NO_TD') return
        throw error
      }
      await send(backlog)
      while (!over()) {
        if (pending.length > 0) {
          await send(pending.splice(0))
          continue
        }
        let timer: NodeJS.Timeout | undefined
        const beat = await new Promise<boolean>((resolve) => {
          wake = () => {
            resolve(false)
          }
          timer = setTimeout(() => {
            resolve(true)
          }, heartbeatMs)
        })
        clearTimeout(timer)
        wake = undefined
        if (beat && !over()) await stream.write(': heartbeat\n\n')
      }
      if (droppedOnly()) {
        await stream.writeSSE({
          event: 'dropped',
          data: JSON.stringify({
            reason: `the reader fell more than ${maxBuffered} events behind`,
            lastSeq: last,
          }),
        })
      }
    } finally {
      unsubscribe()
      unwatch()
    }
  })
}
