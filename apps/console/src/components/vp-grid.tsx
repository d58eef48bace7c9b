import { useRef } from 'preact/hooks'
import { describeVp, type GridState, type VpRow } from '../trace/vp-grid-state.js'

// The VP × VTL grid: one row per VP, one column per VTL (active, enabled, not enabled), then
// blocked, pending interrupts and the last switch. Every cell says its state in words (the colour
// only repeats it); the arrow keys move between cells, Home/End to a row's ends.

function vtlCell(row: VpRow, vtl: 0 | 1): { text: string; className: string } {
  if (row.activeVtl === vtl) return { text: 'active', className: 'cell active' }
  if (vtl === 0 || row.vtl1Enabled) return { text: 'enabled', className: 'cell enabled' }
  return { text: 'not enabled', className: 'cell off' }
}

const vectors = (list: readonly number[]): string =>
  list.map((v) => `0x${v.toString(16)}`).join(' ')

function pendingText(row: VpRow): string {
  const parts = [
    row.pending.vtl0.length > 0 ? `VTL0: ${vectors(row.pending.vtl0)}` : '',
    row.pending.vtl1.length > 0 ? `VTL1: ${vectors(row.pending.vtl1)}` : '',
  ].filter((p) => p !== '')
  return parts.length === 0 ? 'none' : parts.join('; ')
}

function onGridKey(event: KeyboardEvent, table: HTMLTableElement | null): void {
  const cell = (event.target as HTMLElement).closest<HTMLTableCellElement>('td, th')
  const row = cell?.parentElement
  if (table === null || cell === null || !(row instanceof HTMLTableRowElement)) return
  const rows = [...table.rows]
  let r = rows.indexOf(row)
  let c = [...row.cells].indexOf(cell)
  if (event.key === 'ArrowRight') c++
  else if (event.key === 'ArrowLeft') c--
  else if (event.key === 'ArrowDown') r++
  else if (event.key === 'ArrowUp') r--
  else if (event.key === 'Home') c = 0
  else if (event.key === 'End') c = row.cells.length - 1
  else return
  event.preventDefault()
  const target = rows[Math.max(0, Math.min(rows.length - 1, r))]
  const next = target?.cells[Math.max(0, Math.min((target.cells.length || 1) - 1, c))]
  if (next === undefined) return
  for (const other of table.querySelectorAll<HTMLElement>('[tabindex="0"]')) other.tabIndex = -1
  next.tabIndex = 0
  next.focus()
}

export function VpGrid({ state }: { state: GridState }) {
  const table = useRef<HTMLTableElement>(null)
  return (
    <div class="grid-wrap">
      <table
        ref={table}
        class="vp-grid"
        role="grid"
        aria-describedby="vp-grid-summary"
        onKeyDown={(event) => {
          onGridKey(event, table.current)
        }}
      >
        <caption>
          VPs × VTLs{state.guestVsmState === undefined ? '' : ` — guest VSM ${state.guestVsmState}`}
        </caption>
        <thead>
          <tr>
            <th scope="col" tabIndex={0}>
              VP
            </th>
            <th scope="col" tabIndex={-1}>
              VTL0
            </th>
            <th scope="col" tabIndex={-1}>
              VTL1
            </th>
            <th scope="col" tabIndex={-1}>
              Blocked
            </th>
            <th scope="col" tabIndex={-1}>
              Pending interrupts
            </th>
            <th scope="col" tabIndex={-1}>
              Last switch
            </th>
          </tr>
        </thead>
        <tbody>
          {state.vps.map((row) => {
            const vtl0 = vtlCell(row, 0)
            const vtl1 = vtlCell(row, 1)
            return (
              <tr key={row.vp} data-vp={row.vp} title={describeVp(row)}>
                <th scope="row" tabIndex={-1}>
                  VP {row.vp}
                </th>
                <td tabIndex={-1} class={vtl0.className} data-vtl="0">
                  {vtl0.text}
                </td>
                <td tabIndex={-1} class={vtl1.className} data-vtl="1">
                  {vtl1.text}
                </td>
                <td tabIndex={-1} class={row.blocked ? 'cell blocked' : 'cell'}>
                  {row.blocked ? 'blocked (TLB lock)' : 'no'}
                </td>
                <td tabIndex={-1} class={pendingText(row) === 'none' ? 'cell' : 'cell pending'}>
                  {pendingText(row)}
                </td>
                <td tabIndex={-1} class="cell">
                  {row.lastSwitch === undefined
                    ? '—'
                    : `VTL${row.lastSwitch.from}→VTL${row.lastSwitch.to} ${row.lastSwitch.reason} (${row.switches})`}
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
      <ul id="vp-grid-summary" class="visually-hidden" aria-live="polite">
        {state.vps.map((row) => (
          <li key={row.vp}>{describeVp(row)}</li>
        ))}
      </ul>
    </div>
  )
}
