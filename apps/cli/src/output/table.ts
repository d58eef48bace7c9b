import Table from 'cli-table3'

/**
 * A table for lists. Borders are plain ASCII-free box drawing from cli-table3; cells are strings
 * (callers colour them). `colors: false` keeps cli-table3 from colouring the header.
 */
export function renderTable(
  head: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  options: { align?: readonly ('left' | 'right' | 'center')[] } = {}
): string {
  const table = new Table({
    head: [...head],
    style: { head: [], border: [] },
    ...(options.align === undefined ? {} : { colAligns: [...options.align] }),
  })
  for (const row of rows) table.push(row.map((cell) => String(cell)))
  return table.toString()
}
