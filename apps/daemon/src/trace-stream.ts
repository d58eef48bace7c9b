import type { Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import { ProblemError } from './problem.js'
import type { TdService } from './td-service.js'
import { traceFrame, type TraceFrame } from './trace-fanout.js'

// GET /v1/tds/{id}/trace/events: the TD's trace events as server-sent events (`event: trace`,
// `id: <seq>`), first the kept ones after Last-Event-ID (none with `from=now` and no
// Last-Event-ID), then live ones as commands produce them,
// with comment heartbeats. The stream ends when the client goes away, the TD is deleted or the
// daemon closes its streams. Live events arrive as frames serialised once for all of the TD's
// streams; what a reader has not taken yet goes out in one write.

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
    const pending: TraceFrame[] = []
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
    const unsubscribe = tds.subscribeFrames(id, (frames) => {
      if (dropped) return
      if (pending.length + frames.length > maxBuffered) {
        // A slow reader: free what it holds; it gets one final event when it reads again.
        dropped = true
        pending.length = 0
        setTimeout(() => {
          stream.abort()
        }, heartbeatMs).unref()
      } else pending.push(...frames)
      wake?.()
    })
    const unwatch = tds.onEnd((td) => {
      if (td === undefined || td === id) finish()
    })
    stream.onAbort(finish)
    const send = async (frames: readonly TraceFrame[]) => {
      if (over()) return
      let text = ''
      let upTo = last
      for (const frame of frames) {
        if (frame.seq <= upTo) continue
        text += frame.text
        upTo = frame.seq
      }
      if (text === '') return
      await stream.write(text)
      last = upTo
    }
    try {
      let backlog: TraceFrame[]
      try {
        // Asked for even when not wanted (then none): it tells a TD deleted in between.
        backlog = (await tds.traceEvents(id, backlogWanted ? last : Number.MAX_SAFE_INTEGER)).map(
          traceFrame
        )
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
