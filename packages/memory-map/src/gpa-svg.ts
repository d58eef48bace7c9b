import { formatMapGpaFlags } from '@vtl/core'
import { formatByteSize, formatHex } from '@vtl/core/schemas'
import type { GpaSpace, PageStateView, RunView } from '@vtl/memory'

// A picture of a GPA space: one column per run of identical pages, four lanes (host visibility,
// VTL0 permissions, VTL1 permissions, locks and overlays), a GPA axis and a legend. Runs are
// drawn in proportion to their size, but never narrower than `minRunWidth` pixels, so a single
// protected 4 KiB page in a 64 GiB guest stays visible (the axis labels give the real GPAs).

export interface GpaSvgOptions {
  /** Title above the picture. */
  title?: string
  /** Total width in pixels (default 960). */
  width?: number
  /** Narrowest run column in pixels (default 14). */
  minRunWidth?: number
  /** The VTLs whose permission lanes are drawn (default both: `[0, 1]`). */
  vtls?: readonly (0 | 1)[]
}

/** A run as the picture needs it: a GpaSpace run, or one read back from vtld's answer. */
export interface GpaSvgRun {
  start: bigint
  end: bigint
  state: Omit<PageStateView, 'vm1Attr' | 'vm2Attr'>
}

export interface GpaSvgInput {
  runs: readonly GpaSvgRun[]
  /** The GPA range the runs cover, `end` exclusive. */
  start: bigint
  end: bigint
}

const LANE_LABEL_WIDTH = 150
const LANE_HEIGHT = 34
const LANE_GAP = 6
/** Closest two GPA labels may be, in pixels along the axis. */
const LABEL_SPACING = 13
const TOP = 48
const FONT = 'font-family="ui-monospace, Menlo, Consolas, monospace"'

/** Fill colours by meaning (colour-blind-friendly where it matters: private vs shared). */
export const GPA_SVG_COLORS = {
  private: '#4e79a7',
  shared: '#f28e2b',
  notAccepted: '#d9d9d9',
  mmio: '#b07aa1',
  none: '#ffffff',
  noMapping: '#e2e2e2',
  locked: '#e15759',
  overlay: '#59a14f',
  flagsClear: '#fafafa',
} as const

/** Permission fills by HvMapGpaFlags (R W KX UX); other combinations fall back to a palette. */
const PERMISSION_COLORS: Readonly<Record<number, string>> = {
  0x0: '#c0392b', // no access
  0x1: '#a6cee3', // R
  0x3: '#1f78b4', // R W
  0x5: '#fdbf6f', // R KX
  0x9: '#ffe08a', // R UX
  0xd: '#ff7f00', // R KX UX
  0x7: '#b2df8a', // R W KX
  0xb: '#cab2d6', // R W UX
  0xf: '#33a02c', // R W KX UX
}
const FALLBACK = ['#8dd3c7', '#bebada', '#80b1d3', '#fccde5', '#bc80bd', '#ccebc5']

export function permissionColor(flags: number | undefined): string {
  if (flags === undefined) return GPA_SVG_COLORS.noMapping
  return PERMISSION_COLORS[flags] ?? FALLBACK[flags % FALLBACK.length] ?? '#999999'
}

function permissionLabel(flags: number | undefined): string {
  if (flags === undefined) return 'no mapping'
  if (flags === 0) return 'no access'
  return formatMapGpaFlags(flags)
}

type Visibility = 'private' | 'shared' | 'notAccepted' | 'mmio' | 'none'

function visibilityOf(run: GpaSvgRun): Visibility {
  const s = run.state
  if (s.kind === 'none') return 'none'
  if (s.kind === 'mmio') return 'mmio'
  if (s.shared) return 'shared'
  return s.accepted ? 'private' : 'notAccepted'
}

const VISIBILITY_LABELS: Readonly<Record<Visibility, string>> = {
  private: 'private (accepted)',
  shared: 'shared with the host',
  notAccepted: 'private, not accepted',
  mmio: 'MMIO',
  none: 'not RAM',
}

const hex = formatHex
const size = formatByteSize

function esc(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
}

/**
 * Column widths: proportional to run size, each at least `min`, summing to `total` (as closely as
 * integer-free arithmetic allows). Pure: the same runs always give the same layout.
 */
export function runColumns(
  runs: readonly { start: bigint; end: bigint }[],
  total: number,
  min: number
): { x: number; width: number }[] {
  if (runs.length === 0) return []
  const floor = Math.min(min, total / runs.length)
  const span = runs.reduce((acc, r) => acc + Number(r.end - r.start), 0)
  // Runs whose proportional width is below the floor get the floor; the rest share what is left.
  let fixed = new Set<number>()
  for (let pass = 0; pass < runs.length; pass++) {
    const fixedSpan = [...fixed].reduce(
      (acc, i) => acc + Number((runs[i]?.end ?? 0n) - (runs[i]?.start ?? 0n)),
      0
    )
    const left = total - fixed.size * floor
    const scale = span - fixedSpan > 0 ? left / (span - fixedSpan) : 0
    const next = new Set(fixed)
    runs.forEach((r, i) => {
      if (!next.has(i) && Number(r.end - r.start) * scale < floor) next.add(i)
    })
    if (next.size === fixed.size) break
    fixed = next
  }
  const fixedSpan = [...fixed].reduce(
    (acc, i) => acc + Number((runs[i]?.end ?? 0n) - (runs[i]?.start ?? 0n)),
    0
  )
  const scale = span - fixedSpan > 0 ? (total - fixed.size * floor) / (span - fixedSpan) : 0
  let x = 0
  return runs.map((r, i) => {
    const width = fixed.has(i) ? floor : Number(r.end - r.start) * scale
    const col = { x, width }
    x += width
    return col
  })
}

const round = (n: number): string => String(Math.round(n * 100) / 100)

/**
 * Renders runs of a GPA space as a standalone SVG document. Pure: no I/O, deterministic output.
 * Every run rectangle carries `data-lane`, `data-start` and `data-end` (hex GPAs) for tools.
 */
export function renderRunsSvg(input: GpaSvgInput, options: GpaSvgOptions = {}): string {
  const width = options.width ?? 960
  // Room on the right for the last label's slant.
  const plotWidth = width - LANE_LABEL_WIDTH - 90
  const runs = input.runs
  const cols = runColumns(runs, plotWidth, options.minRunWidth ?? 14)
  const names = ['host visibility', 'VTL0 permissions', 'VTL1 permissions', 'locked / overlay']
  // Lanes by meaning (`data-lane`: 0 visibility, 1 VTL0, 2 VTL1, 3 flags), drawn in this order.
  const vtls = options.vtls ?? [0, 1]
  const lanes = [0, ...[1, 2].filter((lane) => vtls.includes((lane - 1) as 0 | 1)), 3]
  const laneTop = (lane: number): number =>
    TOP + Math.max(0, lanes.indexOf(lane)) * (LANE_HEIGHT + LANE_GAP)
  const lanesBottom = TOP + lanes.length * (LANE_HEIGHT + LANE_GAP)
  const out: string[] = []
  const body: string[] = []

  // Lane labels.
  for (const lane of lanes) {
    const y = laneTop(lane) + LANE_HEIGHT / 2 + 4
    body.push(
      `<text x="10" y="${y}" font-size="12" ${FONT} fill="#222">${esc(names[lane] ?? '')}</text>`
    )
  }

  const used = {
    visibility: new Set<Visibility>(),
    permissions: new Map<string, string>(),
    locked: false,
    overlay: false,
  }

  runs.forEach((run, i) => {
    const col = cols[i]
    if (col === undefined) return
    const x = LANE_LABEL_WIDTH + col.x
    const w = col.width
    const range = `${hex(run.start)}–${hex(run.end)} (${size(run.end - run.start)})`
    const attrs = `data-start="${hex(run.start)}" data-end="${hex(run.end)}"`
    const rect = (lane: number, fill: string, tip: string, extra = ''): void => {
      if (!lanes.includes(lane)) return
      const y = laneTop(lane)
      body.push(
        `<rect class="run" data-lane="${lane}" ${attrs} x="${round(x)}" y="${y}" width="${round(w)}" height="${LANE_HEIGHT}" fill="${fill}" stroke="#ffffff" stroke-width="0.5"${extra}><title>${esc(`${range}: ${tip}`)}</title></rect>`
      )
    }
    const label = (lane: number, text: string, dark: boolean): void => {
      if (w < text.length * 7 + 8 || !lanes.includes(lane)) return
      const y = laneTop(lane) + LANE_HEIGHT / 2 + 4
      body.push(
        `<text x="${round(x + w / 2)}" y="${y}" text-anchor="middle" font-size="11" ${FONT} fill="${dark ? '#ffffff' : '#222222'}" pointer-events="none">${esc(text)}</text>`
      )
    }
    const vis = visibilityOf(run)
    used.visibility.add(vis)
    rect(0, GPA_SVG_COLORS[vis], VISIBILITY_LABELS[vis])
    label(
      0,
      vis === 'notAccepted' ? 'not accepted' : vis === 'none' ? 'not RAM' : vis,
      vis === 'private' || vis === 'mmio'
    )
    const ram = run.state.kind === 'ram'
    for (const [lane, flags] of [
      [1, run.state.vtl0],
      [2, run.state.vtl1],
    ] as const) {
      const f = ram ? flags : undefined
      const text = permissionLabel(f)
      const fill = permissionColor(f)
      if (lanes.includes(lane)) used.permissions.set(text, fill)
      rect(lane, fill, `VTL${lane - 1} ${text}`)
      label(lane, text, f === 0 || f === 0x3 || f === 0xf)
    }
    const marks: string[] = []
    if (run.state.locked) marks.push('locked')
    if (run.state.overlay.vtl0) marks.push('VTL0 overlay')
    if (run.state.overlay.vtl1) marks.push('VTL1 overlay')
    used.locked ||= run.state.locked
    used.overlay ||= run.state.overlay.vtl0 || run.state.overlay.vtl1
    const flagFill = run.state.locked
      ? GPA_SVG_COLORS.locked
      : marks.length > 0
        ? GPA_SVG_COLORS.overlay
        : GPA_SVG_COLORS.flagsClear
    rect(3, flagFill, marks.length === 0 ? 'not locked, no overlay' : marks.join(', '))
    if (marks.length > 0) label(3, marks.join(', '), true)
  })

  // GPA axis: a tick at every run boundary, its GPA written below it on a slant so that
  // neighbouring boundaries keep their own labels; a label that would touch the previous one is
  // left out (the run's tooltip still has it).
  const axisY = lanesBottom + 2
  body.push(
    `<line x1="${LANE_LABEL_WIDTH}" y1="${axisY}" x2="${round(LANE_LABEL_WIDTH + plotWidth)}" y2="${axisY}" stroke="#444" stroke-width="1"/>`
  )
  const boundaries: { x: number; gpa: bigint }[] = runs.map((r, i) => ({
    x: LANE_LABEL_WIDTH + (cols[i]?.x ?? 0),
    gpa: r.start,
  }))
  const last = runs[runs.length - 1]
  if (last !== undefined) boundaries.push({ x: LANE_LABEL_WIDTH + plotWidth, gpa: last.end })
  let lastLabel = -Infinity
  let longest = 0
  for (const b of boundaries) {
    body.push(
      `<line class="tick" x1="${round(b.x)}" y1="${TOP - 4}" x2="${round(b.x)}" y2="${axisY + 5}" stroke="#444" stroke-width="0.6" stroke-dasharray="2,2"/>`
    )
    if (b.x - lastLabel < LABEL_SPACING) continue
    lastLabel = b.x
    const text = hex(b.gpa)
    longest = Math.max(longest, text.length)
    const y = axisY + 10
    body.push(
      `<text class="gpa-label" x="${round(b.x - 3)}" y="${y}" transform="rotate(60 ${round(b.x - 3)} ${y})" font-size="10" ${FONT} fill="#222">${text}</text>`
    )
  }
  body.push(`<text x="10" y="${axisY + 18}" font-size="12" ${FONT} fill="#222">GPA</text>`)

  // Legend: one row per lane kind, only what the picture uses.
  const legendTop = axisY + 16 + Math.ceil(longest * 6 * Math.sin((60 * Math.PI) / 180)) + 14
  const groups: { name: string; entries: { fill: string; text: string }[] }[] = [
    {
      name: 'visibility',
      entries: (['private', 'shared', 'notAccepted', 'mmio', 'none'] as const)
        .filter((v) => used.visibility.has(v))
        .map((v) => ({ fill: GPA_SVG_COLORS[v], text: VISIBILITY_LABELS[v] })),
    },
    {
      name: 'permissions',
      entries: [...used.permissions].map(([text, fill]) => ({ fill, text })),
    },
    {
      name: 'flags',
      entries: [
        ...(used.locked ? [{ fill: GPA_SVG_COLORS.locked, text: 'locked' }] : []),
        ...(used.overlay ? [{ fill: GPA_SVG_COLORS.overlay, text: 'overlay page' }] : []),
        { fill: GPA_SVG_COLORS.flagsClear, text: 'neither' },
      ],
    },
  ]
  const legend: string[] = [
    `<g class="legend"><text x="10" y="${legendTop + 11}" font-size="12" font-weight="bold" ${FONT} fill="#222">Legend</text>`,
  ]
  const perRow = Math.max(1, Math.floor((width - LANE_LABEL_WIDTH) / 190))
  let row = 1
  for (const group of groups) {
    if (group.entries.length === 0) continue
    legend.push(
      `<text x="24" y="${legendTop + row * 20 + 11}" font-size="11" ${FONT} fill="#555">${group.name}</text>`
    )
    group.entries.forEach((e, i) => {
      const x = LANE_LABEL_WIDTH + (i % perRow) * 190
      const y = legendTop + (row + Math.floor(i / perRow)) * 20
      legend.push(
        `<rect class="legend-swatch" x="${x}" y="${y}" width="14" height="14" fill="${e.fill}" stroke="#666" stroke-width="0.5"/><text x="${x + 20}" y="${y + 11}" font-size="11" ${FONT} fill="#222">${esc(e.text)}</text>`
      )
    })
    row += Math.ceil(group.entries.length / perRow)
  }
  const noteY = legendTop + row * 20 + 14
  legend.push(
    `<text x="10" y="${noteY}" font-size="10" ${FONT} fill="#555">${esc(`${runs.length} run(s) over ${hex(input.start)}–${hex(input.end)} (${size(input.end - input.start)}); widths follow size, runs narrower than ${options.minRunWidth ?? 14} px are widened to stay visible.`)}</text></g>`
  )
  const height = noteY + 14

  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="26" font-size="16" font-weight="bold" ${FONT} fill="#111">${esc(options.title ?? 'GPA space')}</text>`,
    ...body,
    ...legend,
    '</svg>'
  )
  return `${out.join('\n')}\n`
}

/**
 * The runs of `space` from GPA 0 to the end of its last RAM or MMIO run (or `range`), read with
 * the space's cursor so that any number of runs is drawn.
 */
export function collectRuns(space: GpaSpace, range?: { start: bigint; end: bigint }): GpaSvgInput {
  const whole = { start: 0n, end: BigInt(space.pageLimit) << 12n }
  const want = range ?? whole
  const runs: RunView[] = []
  let cursor: bigint | undefined
  for (;;) {
    const page = space.runs(want, cursor === undefined ? { limit: 1000 } : { cursor, limit: 1000 })
    runs.push(...page.runs)
    if (page.next === undefined) break
    cursor = page.next
  }
  if (range === undefined) {
    while (runs.length > 1 && runs[runs.length - 1]?.state.kind === 'none') runs.pop()
  }
  const first = runs[0]
  const last = runs[runs.length - 1]
  return {
    runs,
    start: first?.start ?? want.start,
    end: last?.end ?? want.end,
  }
}

/** GpaSpace → SVG: the picture `vtl mem show --svg` writes. */
export function renderGpaSvg(
  space: GpaSpace,
  options: GpaSvgOptions & { range?: { start: bigint; end: bigint } } = {}
): string {
  const { range, ...rest } = options
  return renderRunsSvg(collectRuns(space, range), rest)
}
