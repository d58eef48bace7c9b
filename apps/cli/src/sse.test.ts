import { describe, expect, it } from 'vitest'
import { SseParser, type SseEvent } from './sse.js'

const STREAM =
  ': heartbeat\n\nevent: trace\nid: 1\ndata: {"seq":1}\n\n' +
  'event: trace\r\nid: 2\r\ndata: {"a":\r\ndata: 2}\r\n\r\n' +
  'data: plain\n\nid: 9\n\nevent: trace\ndata:no-space\n\n'

const EXPECTED: SseEvent[] = [
  { event: 'trace', id: '1', data: '{"seq":1}' },
  { event: 'trace', id: '2', data: '{"a":\n2}' },
  { event: 'message', id: undefined, data: 'plain' },
  { event: 'trace', id: undefined, data: 'no-space' },
]

function parseIn(chunks: string[]): SseEvent[] {
  const parser = new SseParser()
  return chunks.flatMap((c) => parser.push(c))
}

describe('SseParser', () => {
  it('parses a whole stream: comments skipped, CRLF, multi-line data, ids', () => {
    expect(parseIn([STREAM])).toEqual(EXPECTED)
  })

  it.each([1, 2, 3, 7, 13])('gives the same events when fed in %i-character chunks', (n) => {
    const chunks: string[] = []
    for (let i = 0; i < STREAM.length; i += n) chunks.push(STREAM.slice(i, i + n))
    expect(parseIn(chunks)).toEqual(EXPECTED)
  })

  it('holds an unfinished event until its blank line', () => {
    const parser = new SseParser()
    expect(parser.push('event: trace\ndata: x\n')).toEqual([])
    expect(parser.push('\n')).toEqual([{ event: 'trace', id: undefined, data: 'x' }])
  })
})
