import { describe, expect, it } from 'vitest'
import { GpaSpace, type RunView } from '@vtl/memory'
import {
  GPA_SVG_COLORS,
  permissionColor,
  renderGpaSvg,
  renderRunsSvg,
  runColumns,
} from './gpa-svg.js'

const MiB = 1n << 20n

/** A 16 MiB guest: private RAM, one read-only page for VTL0, a shared 64 KiB window, a lock. */
function knownSpace(): GpaSpace {
  const space = new GpaSpace({
    ram: [{ start: 0n, end: 16n * MiB }],
    mmio: [{ start: 32n * MiB, size: MiB }],
  })
  space.mark({ start: 0n, end: 16n * MiB }, { accepted: true, vtl0: 0xf, vtl1: 0xf })
  space.mark({ start: 0x10000n, size: 0x1000n }, { accepted: true, vtl0: 0x1, vtl1: 0xf })
  space.mark(
    { start: 0x200000n, size: 0x10000n },
    { accepted: false, shared: true, vtl0: null, vtl1: null }
  )
  space.lock({ start: 0x300000n, size: 0x1000n })
  return space
}

interface Rect {
  lane: number
  start: string
  end: string
  x: number
  width: number
  fill: string
}

function rects(svg: string): Rect[] {
  const out: Rect[] = []
  const re =
    /<rect class="run" data-lane="(\d)" data-start="(0x[0-9a-f]+)" data-end="(0x[0-9a-f]+)" x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="[\d.]+" fill="(#[0-9a-f]{6})"/g
  for (const m of svg.matchAll(re)) {
    out.push({
      lane: Number(m[1]),
      start: m[2] ?? '',
      end: m[3] ?? '',
      x: Number(m[4]),
      width: Number(m[5]),
      fill: m[6] ?? '',
    })
  }
  return out
}

describe('renderGpaSvg', () => {
  const svg = renderGpaSvg(knownSpace(), { title: 'known <layout>' })
  const all = rects(svg)

  it('is one standalone SVG document with an escaped title', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true)
    expect(svg.match(/<svg/g)).toHaveLength(1)
    expect(svg).toContain('known &lt;layout&gt;')
    expect(svg).toMatch(/viewBox="0 0 960 \d+"/)
  })

  it('draws one rectangle per run in each of the four lanes', () => {
    const runs = [
      ['0x0', '0x10000'],
      ['0x10000', '0x11000'],
      ['0x11000', '0x200000'],
      ['0x200000', '0x210000'],
      ['0x210000', '0x300000'],
      ['0x300000', '0x301000'],
      ['0x301000', '0x1000000'],
      ['0x1000000', '0x2000000'],
      ['0x2000000', '0x2100000'],
    ]
    for (let lane = 0; lane < 4; lane++) {
      expect(all.filter((r) => r.lane === lane).map((r) => [r.start, r.end])).toEqual(runs)
    }
  })

  it('colours the layout by meaning', () => {
    const at = (lane: number, start: string): string | undefined =>
      all.find((r) => r.lane === lane && r.start === start)?.fill
    expect(at(0, '0x0')).toBe(GPA_SVG_COLORS.private)
    expect(at(0, '0x200000')).toBe(GPA_SVG_COLORS.shared)
    expect(at(0, '0x1000000')).toBe(GPA_SVG_COLORS.none)
    expect(at(0, '0x2000000')).toBe(GPA_SVG_COLORS.mmio)
    expect(at(1, '0x0')).toBe(permissionColor(0xf))
    expect(at(1, '0x10000')).toBe(permissionColor(0x1))
    expect(at(2, '0x10000')).toBe(permissionColor(0xf))
    expect(at(1, '0x200000')).toBe(GPA_SVG_COLORS.noMapping)
    expect(at(3, '0x300000')).toBe(GPA_SVG_COLORS.locked)
    expect(at(3, '0x0')).toBe(GPA_SVG_COLORS.flagsClear)
  })

  it('lays the runs side by side across the plot, left to right, none thinner than the floor', () => {
    const lane0 = all.filter((r) => r.lane === 0)
    for (let i = 1; i < lane0.length; i++) {
      const prev = lane0[i - 1]
      const cur = lane0[i]
      if (prev === undefined || cur === undefined) continue
      expect(cur.x).toBeCloseTo(prev.x + prev.width, 1)
    }
    for (const r of lane0) expect(r.width).toBeGreaterThanOrEqual(14 - 0.01)
    // The 8 MiB "not RAM" run is the widest.
    const widest = [...lane0].sort((a, b) => b.width - a.width)[0]
    expect(widest?.start).toBe('0x1000000')
  })

  it('has a legend naming what the picture uses, and only that', () => {
    const legend = svg.slice(svg.indexOf('<g class="legend">'))
    for (const text of [
      'private (accepted)',
      'shared with the host',
      'MMIO',
      'not RAM',
      'R W KX UX',
      '>R<',
      'no mapping',
      'locked',
    ]) {
      expect(legend).toContain(text)
    }
    expect(legend).not.toContain('not accepted')
    expect(legend).not.toContain('overlay page')
    expect(legend.match(/class="legend-swatch"/g)?.length).toBeGreaterThanOrEqual(9)
  })

  it('labels the GPA axis at run boundaries', () => {
    const labels = [...svg.matchAll(/class="gpa-label"[^>]*>(0x[0-9a-f]+)</g)].map((m) => m[1])
    expect(labels[0]).toBe('0x0')
    expect(labels).toContain('0x1000000')
    expect(labels[labels.length - 1]).toBe('0x2100000')
  })

  it('draws a range of the space when asked', () => {
    const part = rects(renderGpaSvg(knownSpace(), { range: { start: 0x10000n, end: 0x12000n } }))
    expect(part.filter((r) => r.lane === 0).map((r) => [r.start, r.end])).toEqual([
      ['0x10000', '0x11000'],
      ['0x11000', '0x12000'],
    ])
  })
})

describe('renderRunsSvg', () => {
  const view = (start: bigint, end: bigint, over: Partial<RunView['state']> = {}): RunView => ({
    start,
    end,
    state: {
      kind: 'ram',
      accepted: true,
      shared: false,
      locked: false,
      overlay: { vtl0: false, vtl1: false },
      vtl0: 0xf,
      vtl1: undefined,
      vm1Attr: 0,
      vm2Attr: 0,
      ...over,
    },
  })

  it('is deterministic', () => {
    const input = { runs: [view(0n, 0x1000n), view(0x1000n, 0x3000n)], start: 0n, end: 0x3000n }
    expect(renderRunsSvg(input)).toBe(renderRunsSvg(input))
  })

  it('marks overlays and not-accepted pages', () => {
    const svg = renderRunsSvg({
      runs: [
        view(0n, 0x1000n, { overlay: { vtl0: false, vtl1: true } }),
        view(0x1000n, 0x2000n, { accepted: false, vtl0: undefined }),
      ],
      start: 0n,
      end: 0x2000n,
    })
    expect(svg).toContain('VTL1 overlay')
    expect(svg).toContain('overlay page')
    expect(svg).toContain('private, not accepted')
    expect(svg).toContain(`fill="${GPA_SVG_COLORS.notAccepted}"`)
  })
})

describe('runColumns', () => {
  it('is proportional when every run is wide enough', () => {
    const cols = runColumns(
      [
        { start: 0n, end: 100n },
        { start: 100n, end: 400n },
      ],
      400,
      10
    )
    expect(cols).toEqual([
      { x: 0, width: 100 },
      { x: 100, width: 300 },
    ])
  })

  it('widens tiny runs to the floor and shares the rest', () => {
    const cols = runColumns(
      [
        { start: 0n, end: 1n },
        { start: 1n, end: 1_000_000n },
      ],
      500,
      20
    )
    expect(cols[0]?.width).toBe(20)
    expect(cols[1]?.width).toBeCloseTo(480, 6)
  })

  it('gives every run an equal share when there are more runs than pixels allow', () => {
    const runs = Array.from({ length: 100 }, (_, i) => ({ start: BigInt(i), end: BigInt(i + 1) }))
    const cols = runColumns(runs, 200, 14)
    expect(cols.every((c) => c.width === 2)).toBe(true)
  })
})

describe('renderRunsSvg per VTL', () => {
  const laneYs = (svg: string): Map<string, Set<string>> => {
    const ys = new Map<string, Set<string>>()
    for (const m of svg.matchAll(/<rect class="run" data-lane="(\d)"[^>]* y="(\d+)"/g)) {
      const [, lane = '', y = ''] = m
      ys.set(lane, (ys.get(lane) ?? new Set()).add(y))
    }
    return ys
  }

  it('draws both VTLs by default, one VTL’s lane in its place when asked', () => {
    const both = renderGpaSvg(knownSpace())
    expect(renderGpaSvg(knownSpace(), { vtls: [0, 1] })).toBe(both)
    expect([...laneYs(both)].map(([lane, ys]) => [lane, [...ys]])).toEqual([
      ['0', ['48']],
      ['1', ['88']],
      ['2', ['128']],
      ['3', ['168']],
    ])
    const vtl1 = renderGpaSvg(knownSpace(), { vtls: [1] })
    expect([...laneYs(vtl1)].map(([lane, ys]) => [lane, [...ys]])).toEqual([
      ['0', ['48']],
      ['2', ['88']],
      ['3', ['128']],
    ])
    expect(vtl1).toContain('VTL1 permissions')
    expect(vtl1).not.toContain('VTL0 permissions')
    // The legend lists only the permissions drawn: VTL0's read-only page is not in VTL1's map.
    expect(both).toMatch(/>R<\/text>/)
    expect(vtl1).not.toMatch(/>R<\/text>/)
  })
})
