import { describe, expect, it } from 'vitest'
import { logLineText } from './daemon.js'

describe('logLineText (vtld.log records shown when vtld dies while starting)', () => {
  it.each([
    [
      'a record: its message',
      '{"level":30,"name":"vtld","msg":"vtld listening"}',
      'vtld listening',
    ],
    [
      'a fatal record with an error: both',
      '{"level":60,"msg":"boom","err":{"message":"EACCES: /x"}}',
      'boom: EACCES: /x',
    ],
    ['an error that is the message: once', '{"level":60,"msg":"x","err":{"message":"x"}}', 'x'],
    ['a line that is not JSON: as it is', 'vtld: old text line', 'vtld: old text line'],
    ['JSON without a message: as it is', '{"level":30}', '{"level":30}'],
  ])('%s', (_name, line, text) => {
    expect(logLineText(line)).toBe(text)
  })
})
