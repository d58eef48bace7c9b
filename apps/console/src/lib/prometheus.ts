// Prometheus text exposition (vtld's /metrics) → samples; only what the charts read.

export interface Sample {
  name: string
  labels: Readonly<Record<string, string>>
  value: number
}

const LINE = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/
const LABEL = /([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g

export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const match = LINE.exec(line)
    if (match === null) continue
    const [, name = '', labelText = '', valueText = ''] = match
    const labels: Record<string, string> = {}
    for (const m of labelText.matchAll(LABEL)) {
      labels[m[1] ?? ''] = (m[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
    }
    const value = Number(valueText)
    if (!Number.isNaN(value)) samples.push({ name, labels, value })
  }
  return samples
}

/** The sum of `name`'s samples, by the value of `label` (or all under `''`). */
export function sumBy(
  samples: readonly Sample[],
  name: string,
  label?: string
): Map<string, number> {
  const out = new Map<string, number>()
  for (const s of samples) {
    if (s.name !== name) continue
    const key = label === undefined ? '' : (s.labels[label] ?? '')
    out.set(key, (out.get(key) ?? 0) + s.value)
  }
  return out
}
