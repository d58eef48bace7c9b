import Table from 'cli-table3'
import { visibleWidth, wrapText } from './width.js'

/** Columns a cell takes: its widest line. */
const visible = (text: string): number => Math.max(0, ...text.split('\n').map(visibleWidth))

/** The narrowest a column gives way to, padding included (4 characters of text). */
const MIN_COLUMN = 6

/** The longest run of a cell that `wrapText` will not break, padding included. */
const longestWord = (text: string): number =>
  Math.max(0, ...text.split(/[\s,/-]/).map(visibleWidth)) + 2

/**
 * Cell widths (padding included) that fit `width` columns: the widest columns give way first,
 * each no narrower than its longest word while that is enough, then down to `MIN_COLUMN`; their
 * cells wrap.
 */
function fitWidths(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  width: number
): number[] {
  const columns = head.map((h, i) => [h, ...rows.map((r) => r[i] ?? '')])
  const widths = columns.map((cells) => Math.max(...cells.map(visible)) + 2)
  const total = (): number => widths.reduce((a, b) => a + b, 0) + widths.length + 1
  const shrink = (floor: (i: number) => number): void => {
    while (total() > width) {
      const candidates = widths.map((w, i) => (w > floor(i) ? w : 0))
      const widest = Math.max(...candidates)
      if (widest === 0) return
      const i = candidates.indexOf(widest)
      widths[i] = widest - 1
    }
  }
  const words = columns.map((cells) => Math.max(MIN_COLUMN, ...cells.map(longestWord)))
  shrink((i) => words[i] ?? MIN_COLUMN)
  shrink(() => MIN_COLUMN)
  return widths
}

/**
 * A compact table for lists: box drawing from cli-table3, no separator between rows; at most
 * `width` columns wide (the command's `columns(ctx)`), long cells wrapping. Cells are strings
 * (callers colour them); the header is not coloured.
 */
export function renderTable(
  head: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  options: { align?: readonly ('left' | 'right' | 'center')[]; width: number }
): string {
  const cells = rows.map((row) => row.map((cell) => String(cell)))
  const widths = fitWidths(head, cells, options.width)
  // Cells wrap here (at spaces and commas, long words cut) rather than in cli-table3, which
  // would shorten a long word to an ellipsis.
  const fit = (cell: string, i: number): string => wrapText(cell, (widths[i] ?? 3) - 2)
  const wrappedHead = head.map(fit)
  const wrapped = cells.map((row) => row.map(fit))
  const table = new Table({
    head: wrappedHead,
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    // The columns as wide as their wrapped cells: a column that gave way may need less.
    colWidths: fitWidths(wrappedHead, wrapped, Infinity),
    ...(options.align === undefined ? {} : { colAligns: [...options.align] }),
  })
  for (const row of wrapped) table.push(row)
  return table.toString()
}
