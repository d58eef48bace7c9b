import Table from 'cli-table3'

/**
 * The width tables fit on a terminal (its columns, 80 when it does not say); on a pipe tables
 * keep whole cells, for scripts that read them.
 */
function terminalWidth(): number | undefined {
  return process.stdout.isTTY ? process.stdout.columns || 80 : undefined
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g
const visible = (text: string): number =>
  Math.max(
    0,
    ...text
      .replace(ANSI, '')
      .split('\n')
      .map((l) => l.length)
  )

/**
 * Cell widths (padding included) that fit `width` columns: the widest columns give way first,
 * down to 8 characters each; their cells wrap.
 */
function fitWidths(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  width: number
): number[] {
  const widths = head.map(
    (h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))) + 2
  )
  const total = (): number => widths.reduce((a, b) => a + b, 0) + widths.length + 1
  while (total() > width) {
    const widest = widths.indexOf(Math.max(...widths))
    if ((widths[widest] ?? 0) <= 10) break
    widths[widest] = (widths[widest] ?? 0) - 1
  }
  return widths
}

/**
 * A compact table for lists: box drawing from cli-table3, no separator between rows; at most
 * `width` columns wide (default: the terminal's), long cells wrapping. Cells are strings (callers colour them); the header is
 * not coloured.
 */
export function renderTable(
  head: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  options: { align?: readonly ('left' | 'right' | 'center')[]; width?: number } = {}
): string {
  const cells = rows.map((row) => row.map((cell) => String(cell)))
  const width = options.width ?? terminalWidth()
  const table = new Table({
    head: [...head],
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    ...(width === undefined
      ? {}
      : { colWidths: fitWidths(head, cells, width), wordWrap: true, wrapOnWordBoundary: false }),
    ...(options.align === undefined ? {} : { colAligns: [...options.align] }),
  })
  for (const row of cells) table.push(row)
  return table.toString()
}
