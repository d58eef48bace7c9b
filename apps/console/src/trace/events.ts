import type { TraceEvent } from '@vtl/sim'

// The trace events vtld streams (`GET /v1/tds/{id}/trace/events`, `event: trace`, JSON data).

export type { TraceEvent }

/** A trace event from an SSE data line, or undefined when it is not one. */
export function parseTraceEvent(data: string): TraceEvent | undefined {
  let doc: unknown
  try {
    doc = JSON.parse(data)
  } catch {
    return undefined
  }
  if (typeof doc !== 'object' || doc === null) return undefined
  const e = doc as Partial<TraceEvent>
  if (typeof e.seq !== 'number' || typeof e.kind !== 'string' || typeof e.vp !== 'number') {
    return undefined
  }
  if (typeof e.vtl !== 'number' || typeof e.name !== 'string' || typeof e.args !== 'object') {
    return undefined
  }
  return e as TraceEvent
}
