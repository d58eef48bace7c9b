import { describe, expect, it } from 'vitest'
import { renderTable } from './table.js'
import { visibleWidth } from './width.js'

const lines = (text: string): string[] => text.split('\n')

describe('renderTable', () => {
  const rows = [
    ['PASS', 'canonical-boot', 'packages/sim/scenarios/canonical-boot.yaml'],
    ['FAIL', 'x', 'intercept={"toVtl":1,"accessType":"write","gpa":"0x10000"}'],
  ]

  it.each([40, 60, 80])('fits %i columns, wrapping long cells without losing text', (width) => {
    const text = renderTable(['', 'scenario', 'file'], rows, { width })
    expect(Math.max(...lines(text).map(visibleWidth))).toBeLessThanOrEqual(width)
    // Each row back from its lines (a row starts where the first column has text).
    const back: string[][] = []
    for (const line of lines(text).filter((l) => l.startsWith('│'))) {
      const cells = line.split('│').slice(1, -1)
      if (cells[0]?.trim() !== '') back.push(cells.map(() => ''))
      const row = back[back.length - 1] ?? []
      cells.forEach((cell, i) => (row[i] = `${row[i] ?? ''} ${cell.trim()}`))
    }
    const squeeze = (cell: string): string => cell.replace(/ /g, '')
    // The header's first cell is empty: its lines start no row.
    expect(back.map((row) => row.map(squeeze))).toEqual(rows.map((r) => r.map(squeeze)))
  })

  it('has no separator between rows, and columns no wider than their cells', () => {
    const text = renderTable(
      ['a', 'b'],
      [
        ['1', 'two'],
        ['3', 'four'],
      ],
      { width: 80 }
    )
    expect(text).toBe(
      ['┌───┬──────┐', '│ a │ b    │', '│ 1 │ two  │', '│ 3 │ four │', '└───┴──────┘'].join('\n')
    )
  })
})
