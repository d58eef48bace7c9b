import { useEffect, useState } from 'preact/hooks'
import { Bars, Sparkline } from '../components/charts.js'
import { api, errorText } from '../lib/api.js'
import { parsePrometheus, sumBy } from '../lib/prometheus.js'

// vtld's counters (`/metrics`), read once a second: VTL switches per second, hypercalls per second
// and by HvStatus, TDCALLs by leaf.

const POLL_MS = 1000
const WINDOW = 60

interface Reading {
  at: number
  switches: number
  hypercalls: number
  byStatus: Map<string, number>
  byLeaf: Map<string, number>
}

function read(text: string): Reading {
  const samples = parsePrometheus(text)
  const byStatus = sumBy(samples, 'vtl_hypercalls_total', 'status')
  return {
    at: performance.now(),
    switches: sumBy(samples, 'vtl_vtl_switches_total').get('') ?? 0,
    hypercalls: [...byStatus.values()].reduce((a, b) => a + b, 0),
    byStatus,
    byLeaf: sumBy(samples, 'vtl_tdcalls_total', 'leaf'),
  }
}

const sorted = (map: Map<string, number>) =>
  [...map].sort((a, b) => b[1] - a[1]).map(([name, value]) => ({ name, value }))

export function MetricsPage({ onError }: { onError: (message: string) => void }) {
  const [last, setLast] = useState<Reading | undefined>(undefined)
  const [switchRate, setSwitchRate] = useState<number[]>([])
  const [callRate, setCallRate] = useState<number[]>([])

  useEffect(() => {
    let previous: Reading | undefined
    let stopped = false
    const poll = async () => {
      try {
        const now = read(await api.text('/metrics'))
        if (stopped) return
        if (previous !== undefined) {
          const seconds = Math.max(0.001, (now.at - previous.at) / 1000)
          const prev = previous
          setSwitchRate((r) => [...r, (now.switches - prev.switches) / seconds].slice(-WINDOW))
          setCallRate((r) => [...r, (now.hypercalls - prev.hypercalls) / seconds].slice(-WINDOW))
        }
        previous = now
        setLast(now)
      } catch (error) {
        onError(errorText(error))
      }
    }
    void poll()
    const timer = setInterval(() => void poll(), POLL_MS)
    return () => {
      stopped = true
      clearInterval(timer)
    }
  }, [onError])

  return (
    <section aria-labelledby="metrics-title">
      <h1 id="metrics-title">Metrics</h1>
      <p class="muted">
        vtld’s counters over every TD, read each second
        {last === undefined
          ? ''
          : ` — ${last.switches.toLocaleString('en')} VTL switches and ${last.hypercalls.toLocaleString('en')} guest hypercalls so far`}
        .
      </p>
      <div class="charts">
        <Sparkline values={switchRate} label="VTL switches" unit="/s" />
        <Sparkline values={callRate} label="Guest hypercalls" unit="/s" />
        <Bars
          label="Hypercalls by status"
          entries={sorted(last?.byStatus ?? new Map<string, number>()).map((e) => ({
            ...e,
            bad: e.name !== 'Success',
          }))}
        />
        <Bars label="TDCALLs by leaf" entries={sorted(last?.byLeaf ?? new Map<string, number>())} />
      </div>
    </section>
  )
}
