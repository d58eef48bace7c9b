import { describe, expect, it } from 'vitest'
import { outputWidth, visibleWidth, wrapLine, wrapText } from './width.js'

const RED = '\u001b[31m'
const OFF = '\u001b[39m'

describe('outputWidth', () => {
  it.each([
    ['a terminal: its columns', { isTTY: true, columns: 132 }, {}, 132],
    ['a terminal that does not say: $COLUMNS', { isTTY: true }, { COLUMNS: '100' }, 100],
    ['a pipe: $COLUMNS', { isTTY: false, columns: 200 }, { COLUMNS: '60' }, 60],
    ['a pipe without $COLUMNS: 80', {}, {}, 80],
    ['a $COLUMNS that is not a width: 80', {}, { COLUMNS: 'wide' }, 80],
    ['a $COLUMNS of 0: 80', {}, { COLUMNS: '0' }, 80],
  ])('%s', (_name, stream, env, width) => {
    expect(outputWidth(stream, env)).toBe(width)
  })
})

describe('wrapLine', () => {
  it('leaves a line that fits alone', () => {
    expect(wrapLine('abc def', 7)).toBe('abc def')
  })

  it('breaks after the last space that fits, continuation lines indented', () => {
    expect(wrapLine('alpha beta gamma delta', 12, '  ')).toBe('alpha beta\n  gamma\n  delta')
  })

  it('breaks at a space right at the edge without moving the word before it', () => {
    expect(wrapLine('abcd efgh ijkl', 9)).toBe('abcd efgh\nijkl')
  })

  it('breaks JSON after a comma', () => {
    expect(wrapLine('x={"toVtl":1,"gpa":"0x10000"}', 20, ' ')).toBe(
      'x={"toVtl":1,\n "gpa":"0x10000"}'
    )
  })

  it('keeps digit groups together', () => {
    expect(wrapLine('≥ 1,000,000 ops/s', 10)).toBe('≥\n1,000,000\nops/s')
  })

  it('cuts a word longer than a line', () => {
    expect(wrapLine('0123456789abcdef', 6, ' ')).toBe('012345\n 6789a\n bcdef')
  })

  it('does not break in leading spaces', () => {
    expect(wrapLine('      ↳ intercept at 0x10000', 16)).toBe('      ↳\nintercept at\n0x10000')
  })

  it('drops an indent wider than half the width', () => {
    expect(wrapLine('aaaa bbbb cccc', 8, '     ')).toBe('aaaa\nbbbb\ncccc')
  })

  it('counts colour codes as no width and keeps them', () => {
    const line = `${RED}alpha beta${OFF} gamma`
    expect(visibleWidth(line)).toBe(16)
    const wrapped = wrapLine(line, 11)
    expect(wrapped).toBe(`${RED}alpha beta${OFF}\ngamma`)
    expect(wrapped.split('\n').map(visibleWidth)).toEqual([10, 5])
  })

  it('keeps every line of a long text within the width', () => {
    const long = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ')
    for (const width of [20, 33, 80]) {
      const lines = wrapText(`${long}\n${long}`, width, '    ').split('\n')
      expect(Math.max(...lines.map(visibleWidth))).toBeLessThanOrEqual(width)
      expect(lines.join(' ').replace(/ +/g, ' ')).toBe(`${long} ${long}`)
    }
  })
})
