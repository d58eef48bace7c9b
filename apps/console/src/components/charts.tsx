// Small hand-drawn SVG charts for the metrics page; each carries its numbers in words.

export function Sparkline({
  values,
  label,
  unit,
  width = 280,
  height = 60,
}: {
  values: readonly number[]
  label: string
  unit: string
  width?: number
  height?: number
}) {
  const max = Math.max(1, ...values)
  const step = values.length > 1 ? width / (values.length - 1) : width
  const points = values
    .map((v, i) => `${(i * step).toFixed(1)},${(height - (v / max) * (height - 4) - 2).toFixed(1)}`)
    .join(' ')
  const last = values[values.length - 1] ?? 0
  return (
    <figure class="chart">
      <figcaption>
        {label}: <strong>{formatNumber(last)}</strong> {unit} (peak {formatNumber(max)})
      </figcaption>
      <svg
        width="100%"
        viewBox={`0 0 ${width} ${height}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`${label}, last ${values.length} seconds: now ${formatNumber(last)} ${unit}, peak ${formatNumber(max)}`}
      >
        <polyline points={points} fill="none" stroke="currentColor" stroke-width="2" />
      </svg>
    </figure>
  )
}

export function Bars({
  entries,
  label,
}: {
  entries: readonly { name: string; value: number; bad?: boolean }[]
  label: string
}) {
  const max = Math.max(1, ...entries.map((e) => e.value))
  return (
    <figure class="chart">
      <figcaption>{label}</figcaption>
      {entries.length === 0 ? (
        <p class="muted">none yet</p>
      ) : (
        <ul class="bars">
          {entries.map((e) => (
            <li key={e.name}>
              <span class="bar-name">{e.name}</span>
              <span class="bar-track" aria-hidden="true">
                <span
                  class={e.bad === true ? 'bar bad' : 'bar'}
                  style={{ width: `${((e.value / max) * 100).toFixed(1)}%` }}
                />
              </span>
              <span class="bar-value">{formatNumber(e.value)}</span>
            </li>
          ))}
        </ul>
      )}
    </figure>
  )
}

export function formatNumber(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en') : n.toFixed(1)
}
