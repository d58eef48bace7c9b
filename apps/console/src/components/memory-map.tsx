import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { formatMapGpaFlags } from '@vtl/core'
import { formatByteSize, formatHex } from '@vtl/core/schemas'
import { renderRunsSvg, type GpaSvgInput, type GpaSvgRun } from '@vtl/memory-map'

// The GPA map of @vtl/memory-map (the picture `vtl mem show --svg` draws), with a hover and focus
// read-out that names a run's state, keyboard focus on every run (Enter zooms into it) and the
// runs as a table for screen readers and for copying.

export type MapVtls = readonly (0 | 1)[]

const rights = (flags: number | undefined): string =>
  flags === undefined ? 'no mapping' : flags === 0 ? 'no access' : formatMapGpaFlags(flags)

function visibility(run: GpaSvgRun): string {
  const s = run.state
  if (s.kind === 'none') return 'not RAM'
  if (s.kind === 'mmio') return 'MMIO'
  if (s.shared) return 'shared with the host'
  return s.accepted ? 'private (accepted)' : 'private, not accepted'
}

function flags(run: GpaSvgRun): string {
  const marks = [
    run.state.locked ? 'locked' : '',
    run.state.overlay.vtl0 ? 'VTL0 overlay' : '',
    run.state.overlay.vtl1 ? 'VTL1 overlay' : '',
  ].filter((m) => m !== '')
  return marks.length === 0 ? 'not locked, no overlay' : marks.join(', ')
}

/** Everything about one run, in words. */
export function describeRun(run: GpaSvgRun, vtls: MapVtls = [0, 1]): string {
  const range = `${formatHex(run.start)}–${formatHex(run.end)} (${formatByteSize(run.end - run.start)})`
  const perms = vtls.map((v) => `VTL${v} ${rights(v === 0 ? run.state.vtl0 : run.state.vtl1)}`)
  return `${range}: ${visibility(run)}; ${perms.join('; ')}; ${flags(run)}`
}

export interface MemoryMapProps {
  input: GpaSvgInput
  title: string
  vtls: MapVtls
  /** Zoom into a run (Enter or a click on it). */
  onPick?: (run: GpaSvgRun) => void
  width?: number
}

export function MemoryMap({ input, title, vtls, onPick, width = 960 }: MemoryMapProps) {
  const host = useRef<HTMLDivElement>(null)
  const [readout, setReadout] = useState('Point at or focus a run to read its state.')
  const svg = useMemo(
    () => renderRunsSvg(input, { title, vtls, width }),
    [input, title, vtls, width]
  )
  const byStart = useMemo(
    () => new Map(input.runs.map((run) => [formatHex(run.start), run])),
    [input]
  )

  // Every run's lane-0 rectangle is a focus stop with its state as its name.
  useEffect(() => {
    const root = host.current?.querySelector('svg')
    if (root === null || root === undefined) return
    root.setAttribute('role', 'group')
    root.setAttribute('aria-label', `${title}: ${input.runs.length} runs`)
    for (const rect of root.querySelectorAll<SVGRectElement>('rect.run')) {
      const run = byStart.get(rect.dataset.start ?? '')
      if (run === undefined) continue
      if (rect.dataset.lane === '0') {
        rect.setAttribute('tabindex', '0')
        rect.setAttribute('role', 'button')
        rect.setAttribute('aria-label', describeRun(run, vtls))
      }
    }
  }, [svg, byStart, title, input, vtls])

  const runOf = (target: EventTarget | null): GpaSvgRun | undefined => {
    const rect = (target as Element | null)?.closest('rect.run') as SVGRectElement | null
    return rect === null ? undefined : byStart.get(rect.dataset.start ?? '')
  }
  const show = (target: EventTarget | null) => {
    const run = runOf(target)
    if (run !== undefined) setReadout(describeRun(run, vtls))
  }

  return (
    <div class="memory-map">
      <div
        ref={host}
        class="map-svg"
        // The picture is @vtl/memory-map's SVG text: built here from numbers and escaped names.
        dangerouslySetInnerHTML={{ __html: svg }}
        onMouseOver={(e) => {
          show(e.target)
        }}
        onFocusIn={(e) => {
          show(e.target)
        }}
        onClick={(e) => {
          const run = runOf(e.target)
          if (run !== undefined) onPick?.(run)
        }}
        onKeyDown={(e) => {
          if (e.key !== 'Enter' && e.key !== ' ') return
          const run = runOf(e.target)
          if (run === undefined) return
          e.preventDefault()
          onPick?.(run)
        }}
      />
      <p class="readout" role="status" aria-live="polite" data-testid="map-readout">
        {readout}
      </p>
      <details>
        <summary>Runs as a table ({input.runs.length})</summary>
        <div class="table-wrap" tabIndex={0} aria-label="GPA runs">
          <table class="runs">
            <thead>
              <tr>
                <th scope="col">GPA range</th>
                <th scope="col">Size</th>
                <th scope="col">Visibility</th>
                {vtls.map((v) => (
                  <th scope="col" key={v}>
                    VTL{v}
                  </th>
                ))}
                <th scope="col">Flags</th>
              </tr>
            </thead>
            <tbody>
              {input.runs.map((run) => (
                <tr key={formatHex(run.start)}>
                  <td>
                    {formatHex(run.start)}–{formatHex(run.end)}
                  </td>
                  <td>{formatByteSize(run.end - run.start)}</td>
                  <td>{visibility(run)}</td>
                  {vtls.map((v) => (
                    <td key={v}>{rights(v === 0 ? run.state.vtl0 : run.state.vtl1)}</td>
                  ))}
                  <td>{flags(run)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </div>
  )
}
