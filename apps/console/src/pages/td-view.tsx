import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { formatByteSize, formatHex } from '@vtl/core/schemas'
import { wireRunsSvgInput, type GpaSvgInput, type GpaSvgRun } from '@vtl/memory-map'
import { HypercallLog } from '../components/hypercall-log.js'
import { MemoryMap, type MapVtls } from '../components/memory-map.js'
import { VpGrid } from '../components/vp-grid.js'
import { api, download, errorText } from '../lib/api.js'
import { openInPerfetto } from '../lib/perfetto.js'
import { href } from '../lib/route.js'
import { parseTraceEvent, type TraceEvent } from '../trace/events.js'
import { hypercallRow, type HypercallRow } from '../trace/hypercall-log.js'
import {
  applyEvents,
  applyStatus,
  emptyGrid,
  type GridState,
  type TdStatus,
} from '../trace/vp-grid-state.js'
import type { TdView as Td } from './td-list.js'

// One TD, live: the trace stream (SSE) moves the VP grid and fills the hypercall log; each batch
// of events also re-reads the status (VTL1 enabled, blocked, pending) and the GPA map.

const PAGE = 4096n
/** Newest log rows kept in the page. */
const KEEP_ROWS = 5000

interface Range {
  start: bigint
  size: bigint
}

async function readRuns(id: string, range: Range | undefined): Promise<unknown[]> {
  const runs: unknown[] = []
  let cursor: string | undefined
  do {
    const query = new URLSearchParams({ limit: '4096' })
    if (range !== undefined) {
      query.set('start', formatHex(range.start))
      query.set('size', formatHex(range.size))
    }
    if (cursor !== undefined) query.set('cursor', cursor)
    const page = (await api.get(`/v1/tds/${id}/memory/runs?${query.toString()}`)) as {
      runs: unknown[]
      next?: string | null
    }
    runs.push(...page.runs)
    cursor = page.next ?? undefined
  } while (cursor !== undefined)
  return runs
}

/** `range` scaled by `factor` around its middle, page aligned, within `[0, memory)`. */
function zoom(range: Range, factor: number, memory: bigint): Range {
  const middle = range.start + range.size / 2n
  let size = (BigInt(Math.round(Number(range.size) * factor)) / PAGE) * PAGE
  if (size < 16n * PAGE) size = 16n * PAGE
  if (size > memory) size = memory
  let start = ((middle - size / 2n) / PAGE) * PAGE
  if (start < 0n) start = 0n
  if (start + size > memory) start = memory - size
  return { start, size }
}

export function TdPage({ id, onError }: { id: string; onError: (message: string) => void }) {
  const [td, setTd] = useState<Td | undefined>(undefined)
  const [grid, setGrid] = useState<GridState>(emptyGrid(0))
  const [rows, setRows] = useState<HypercallRow[]>([])
  const [live, setLive] = useState<'connecting' | 'live' | 'ended'>('connecting')
  const [range, setRange] = useState<Range | undefined>(undefined)
  const [vtls, setVtls] = useState<MapVtls>([0, 1])
  const [map, setMap] = useState<GpaSvgInput | undefined>(undefined)
  const refresh = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  const rangeRef = useRef(range)
  rangeRef.current = range

  const readStatus = useCallback(async () => {
    const status = (await api.get(`/v1/tds/${id}/status`)) as TdStatus
    setGrid((g) => applyStatus(g, status))
  }, [id])
  const readMap = useCallback(async () => {
    const r = rangeRef.current
    setMap(wireRunsSvgInput(await readRuns(id, r), r?.start ?? 0n))
  }, [id])

  // The TD, its status and the trace stream.
  useEffect(() => {
    let closed = false
    // Read through a call: the flag changes in the cleanup, which flow analysis cannot see.
    const isClosed = () => closed
    const source = new EventSource(`/v1/tds/${encodeURIComponent(id)}/trace/events`)
    void (async () => {
      try {
        const view = (await api.get(`/v1/tds/${id}`)) as Td
        if (isClosed()) return
        setTd(view)
        setGrid((g) => (g.vps.length === 0 ? { ...emptyGrid(view.vps), seq: g.seq } : g))
        await readStatus()
      } catch (error) {
        onError(errorText(error))
      }
    })()
    let batch: TraceEvent[] = []
    const flush = () => {
      refresh.current = undefined
      const events = batch
      batch = []
      setGrid((g) => applyEvents(g, events))
      const fresh = events.map(hypercallRow).filter((r): r is HypercallRow => r !== undefined)
      if (fresh.length > 0) setRows((old) => [...old, ...fresh].slice(-KEEP_ROWS))
      void readStatus().catch(() => undefined)
      void readMap().catch(() => undefined)
    }
    source.addEventListener('open', () => {
      setLive('live')
    })
    source.addEventListener('trace', (message) => {
      const event = parseTraceEvent((message as MessageEvent<string>).data)
      if (event === undefined) return
      batch.push(event)
      refresh.current ??= setTimeout(flush, 120)
    })
    source.addEventListener('error', () => {
      // EventSource reconnects by itself (with Last-Event-ID); CLOSED means it gave up.
      setLive(source.readyState === EventSource.CLOSED ? 'ended' : 'connecting')
    })
    return () => {
      closed = true
      source.close()
      clearTimeout(refresh.current)
    }
  }, [id, onError, readStatus, readMap])

  useEffect(() => {
    readMap().catch((error: unknown) => {
      onError(errorText(error))
    })
  }, [range, readMap, onError])

  const memory = td === undefined ? 0n : BigInt(td.memory)
  const pick = (run: GpaSvgRun) => {
    const size = run.end - run.start
    setRange(zoom({ start: run.start, size }, size < 16n * PAGE ? 16 : 1, memory))
  }
  const title = useMemo(() => {
    const r =
      range === undefined ? 'RAM' : `${formatHex(range.start)} + ${formatByteSize(range.size)}`
    return `${td?.name ?? id}: GPA map (${r})`
  }, [td, id, range])

  const exportTrace = async (perfetto: boolean) => {
    try {
      const text = JSON.stringify(await api.get(`/v1/tds/${id}/trace`))
      const name = `${td?.name ?? id}.trace`
      if (perfetto) openInPerfetto(text, name)
      else download(`${name}.json`, text)
    } catch (error) {
      onError(errorText(error))
    }
  }

  return (
    <section aria-labelledby="td-title">
      <h1 id="td-title">
        {td?.name ?? id}
        <span class={`live ${live}`} role="status">
          {live === 'live' ? '● live' : live === 'connecting' ? '○ connecting…' : '○ stream ended'}
        </span>
      </h1>
      {td === undefined ? null : (
        <p class="muted">
          {td.id} · {td.vps} VPs · {formatByteSize(memory)} · {td.state}
        </p>
      )}
      <nav class="toolbar" aria-label="TD actions">
        <a class="button" href={href.scenarios(id)}>
          Run a scenario on this TD
        </a>
        <button type="button" onClick={() => void exportTrace(false)}>
          Download trace (Perfetto JSON)
        </button>
        <button type="button" onClick={() => void exportTrace(true)}>
          Open in Perfetto
        </button>
      </nav>

      <div class="td-grid">
        <section aria-labelledby="vps-title" class="panel">
          <h2 id="vps-title">VPs</h2>
          <VpGrid state={grid} />
        </section>

        <section aria-labelledby="log-title" class="panel">
          <h2 id="log-title">Hypercalls</h2>
          <HypercallLog rows={rows} vps={td?.vps ?? 0} />
        </section>

        <section aria-labelledby="map-title" class="panel wide">
          <h2 id="map-title">GPA map</h2>
          <div class="toolbar" role="group" aria-label="Map view">
            <label>
              VTLs
              <select
                value={vtls.join(',')}
                onChange={(e) => {
                  setVtls(e.currentTarget.value.split(',').map(Number) as (0 | 1)[])
                }}
              >
                <option value="0,1">VTL0 and VTL1</option>
                <option value="0">VTL0</option>
                <option value="1">VTL1</option>
              </select>
            </label>
            <button
              type="button"
              disabled={td === undefined}
              onClick={() => {
                setRange(zoom(range ?? { start: 0n, size: memory }, 0.5, memory))
              }}
            >
              Zoom in
            </button>
            <button
              type="button"
              disabled={range === undefined}
              onClick={() => {
                if (range === undefined) return
                const wider = zoom(range, 2, memory)
                setRange(wider.size >= memory ? undefined : wider)
              }}
            >
              Zoom out
            </button>
            <button
              type="button"
              disabled={range === undefined}
              onClick={() => {
                setRange(undefined)
              }}
            >
              Whole RAM
            </button>
          </div>
          {map === undefined ? (
            <p>Loading the map…</p>
          ) : (
            <MemoryMap input={map} title={title} vtls={vtls} onPick={pick} />
          )}
        </section>
      </div>
    </section>
  )
}
