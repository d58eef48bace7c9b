// A text/event-stream parser (WHATWG HTML §9.2): feed it chunks, it returns the complete events.
// Comment lines (`:` heartbeats) are skipped; an event without `data` is not dispatched.

export interface SseEvent {
  /** `event:` field, `message` when absent. */
  event: string
  /** `data:` lines joined by `\n`. */
  data: string
  /** `id:` field of this event, if it carried one. */
  id: string | undefined
}

export class SseParser {
  private buffer = ''
  private event = ''
  private data: string[] = []
  private id: string | undefined

  /** Parses a chunk; returns the events it completed. */
  push(chunk: string): SseEvent[] {
    this.buffer += chunk
    const out: SseEvent[] = []
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer)
      // A lone trailing `\r` may be the first half of `\r\n`: wait for the next chunk.
      if (match === null || (match[0] === '\r' && match.index === this.buffer.length - 1)) break
      const line = this.buffer.slice(0, match.index)
      this.buffer = this.buffer.slice(match.index + match[0].length)
      const event = this.line(line)
      if (event !== undefined) out.push(event)
    }
    return out
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') {
      const event =
        this.data.length === 0
          ? undefined
          : {
              event: this.event === '' ? 'message' : this.event,
              data: this.data.join('\n'),
              id: this.id,
            }
      this.event = ''
      this.data = []
      this.id = undefined
      return event
    }
    if (line.startsWith(':')) return undefined
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') this.event = value
    else if (field === 'data') this.data.push(value)
    else if (field === 'id' && !value.includes('\0')) this.id = value
    return undefined
  }
}
