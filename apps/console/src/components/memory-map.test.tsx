// @vitest-environment happy-dom
import { render } from 'preact'
import { act } from 'preact/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { wireRunsSvgInput, type GpaSvgRun } from '@vtl/memory-map'
import recordedRuns from '../fixtures/recorded-runs.json'
import { describeRun, MemoryMap, type MapVtls } from './memory-map.js'

// The map over the memory runs of a recorded run (scripts/record-trace.ts): VTL1 made GPA page
// 0x10 read-only for VTL0 (three runs in the first 16 MiB).

const input = wireRunsSvgInput(recordedRuns)
let host: HTMLElement
afterEach(() => {
  render(null, host)
  host.remove()
})

function draw(vtls: MapVtls = [0, 1], onPick?: (run: GpaSvgRun) => void): HTMLElement {
  host = document.createElement('div')
  document.body.append(host)
  void act(() => {
    render(
      <MemoryMap input={input} title="recorded" vtls={vtls} {...(onPick ? { onPick } : {})} />,
      host
    )
  })
  return host
}

const readout = () => host.querySelector('[data-testid="map-readout"]')?.textContent

describe('MemoryMap with recorded runs', () => {
  it('draws the protected page as its own run with the state in its title', () => {
    draw()
    const page = host.querySelector('rect.run[data-lane="1"][data-start="0x10000"]')
    expect(page?.getAttribute('data-end')).toBe('0x11000')
    expect(page?.querySelector('title')?.textContent).toBe('0x10000–0x11000 (4KiB): VTL0 R')
    expect(host.querySelectorAll('rect.run[data-lane="0"]')).toHaveLength(3)
  })

  it('names the state of the run under the pointer', () => {
    draw()
    const page = host.querySelector('rect.run[data-lane="2"][data-start="0x10000"]')
    void act(() => {
      page?.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }))
    })
    expect(readout()).toBe(
      '0x10000–0x11000 (4KiB): private (accepted); VTL0 R; VTL1 R W KX UX; not locked, no overlay'
    )
  })

  it('makes every run a focus stop named by its state; Enter picks it', () => {
    const pick = vi.fn()
    draw([0, 1], pick)
    const stops = [...host.querySelectorAll('rect[tabindex="0"]')]
    expect(stops.map((s) => s.getAttribute('data-start'))).toEqual(['0x0', '0x10000', '0x11000'])
    expect(stops[0]?.getAttribute('aria-label')).toBe(
      '0x0–0x10000 (64KiB): private (accepted); VTL0 R W KX UX; VTL1 R W KX UX; not locked, no overlay'
    )
    void act(() => {
      stops[1]?.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }))
    })
    expect(pick).toHaveBeenCalledTimes(1)
    expect(pick.mock.calls[0]?.[0]).toMatchObject({ start: 0x10000n, end: 0x11000n })
  })

  it('draws one VTL’s permissions when asked, in the picture and in the table', () => {
    draw([1])
    expect(host.querySelectorAll('rect.run[data-lane="1"]')).toHaveLength(0)
    expect(host.querySelectorAll('rect.run[data-lane="2"]')).toHaveLength(3)
    const heads = [...host.querySelectorAll('table.runs th')].map((th) => th.textContent)
    expect(heads).toEqual(['GPA range', 'Size', 'Visibility', 'VTL1', 'Flags'])
    const rows = [...host.querySelectorAll('table.runs tbody tr')].map((tr) =>
      [...tr.querySelectorAll('td')].map((td) => td.textContent)
    )
    expect(rows[1]).toEqual([
      '0x10000–0x11000',
      '4KiB',
      'private (accepted)',
      'R W KX UX',
      'not locked, no overlay',
    ])
  })

  it('says “no mapping” and “no access” apart', () => {
    const [first] = input.runs
    if (first === undefined) throw new Error('no run')
    const run = { ...first, state: { ...first.state, vtl0: undefined, vtl1: 0 } }
    expect(describeRun(run)).toContain('VTL0 no mapping; VTL1 no access')
  })
})
