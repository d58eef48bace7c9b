import { useMemo, useState } from 'preact/hooks'
import {
  failed,
  filterRows,
  NO_FILTER,
  type HypercallRow,
  type LogFilter,
} from '../trace/hypercall-log.js'

// The hypercall log with its filters (VP, VTL, outcome, name, the paravisor's forwards); the
// newest call first, at most `limit` rows drawn.

const optionalNumber = (value: string): number | undefined =>
  value === '' ? undefined : Number(value)

export function HypercallLog({
  rows,
  vps,
  limit = 300,
}: {
  rows: readonly HypercallRow[]
  vps: number
  limit?: number
}) {
  const [filter, setFilter] = useState<LogFilter>(NO_FILTER)
  const shown = useMemo(() => filterRows(rows, filter).reverse(), [rows, filter])
  const set = (patch: Partial<LogFilter>) => {
    setFilter({ ...filter, ...patch })
  }
  return (
    <div class="hypercall-log">
      <form
        class="filters"
        aria-label="Hypercall filters"
        onSubmit={(e) => {
          e.preventDefault()
        }}
      >
        <label>
          VP
          <select
            value={filter.vp === undefined ? '' : String(filter.vp)}
            onChange={(e) => {
              set({ vp: optionalNumber(e.currentTarget.value) })
            }}
          >
            <option value="">all</option>
            {Array.from({ length: vps }, (_, vp) => (
              <option key={vp} value={String(vp)}>
                VP {vp}
              </option>
            ))}
          </select>
        </label>
        <label>
          VTL
          <select
            value={filter.vtl === undefined ? '' : String(filter.vtl)}
            onChange={(e) => {
              set({ vtl: optionalNumber(e.currentTarget.value) })
            }}
          >
            <option value="">all</option>
            <option value="0">VTL0</option>
            <option value="1">VTL1</option>
            {filter.forwards ? <option value="2">VTL2 (forwards)</option> : null}
          </select>
        </label>
        <label>
          Outcome
          <select
            value={filter.outcome}
            onChange={(e) => {
              set({ outcome: e.currentTarget.value as LogFilter['outcome'] })
            }}
          >
            <option value="all">all</option>
            <option value="failed">failed</option>
            <option value="succeeded">succeeded</option>
          </select>
        </label>
        <label>
          Name
          <input
            type="search"
            value={filter.name}
            placeholder="e.g. EnableVpVtl"
            onInput={(e) => {
              set({ name: e.currentTarget.value })
            }}
          />
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={filter.forwards}
            onChange={(e) => {
              set({ forwards: e.currentTarget.checked })
            }}
          />
          paravisor → host
        </label>
      </form>
      <p class="count" aria-live="polite">
        {shown.length} of {rows.length} calls
        {shown.length > limit ? ` (newest ${limit} shown)` : ''}
      </p>
      <div class="table-wrap" tabIndex={0} aria-label="Hypercalls, newest first">
        <table class="log">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Caller</th>
              <th scope="col">Hypercall</th>
              <th scope="col">Status</th>
              <th scope="col">Reps</th>
              <th scope="col">Cost (cycles)</th>
            </tr>
          </thead>
          <tbody>
            {shown.slice(0, limit).map((row) => (
              <tr key={row.seq} class={failed(row) ? 'failed' : undefined} data-seq={row.seq}>
                <td>{row.seq}</td>
                <td>
                  VP {row.vp} · {row.vtl === 2 ? 'VTL2 → host' : `VTL${row.vtl}`}
                </td>
                <td>
                  {row.name}
                  {row.code === undefined ? '' : ` (0x${row.code.toString(16).padStart(4, '0')})`}
                </td>
                <td>{failed(row) ? `✗ ${row.status}` : row.status}</td>
                <td>{row.reps ?? '—'}</td>
                <td>{row.cycles === undefined ? '—' : row.cycles.toLocaleString('en')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  )
}
