// @vitest-environment happy-dom
import { render } from 'preact'
import { afterEach, describe, expect, it } from 'vitest'
import recorded from '../fixtures/recorded-trace.json'
import type { TraceEvent } from '../trace/events.js'
import { applyEvents, applyStatus, emptyGrid, type GridState } from '../trace/vp-grid-state.js'
import { VpGrid } from './vp-grid.js'

// The grid fed with the trace events of a real run (scripts/record-trace.ts): VP0 enables VTL1,
// enters it (VtlCall), protects a page, returns (VtlReturn); VP1 is started by VP0.

const events = recorded as TraceEvent[]
const upTo = (name: string) => events.slice(0, events.findIndex((e) => e.name === name) + 1)

let host: HTMLElement
afterEach(() => {
  render(null, host)
  host.remove()
})

function draw(state: GridState): HTMLTableElement {
  host = document.createElement('div')
  document.body.append(host)
  render(<VpGrid state={state} />, host)
  const table = host.querySelector('table')
  if (table === null) throw new Error('no grid')
  return table
}

const cells = (table: HTMLTableElement, vp: number) =>
  [...(table.querySelector(`tr[data-vp="${vp}"]`)?.querySelectorAll('th, td') ?? [])].map(
    (c) => c.textContent
  )

describe('VpGrid with recorded trace events', () => {
  it('starts with every VP in VTL0 and VTL1 not enabled', () => {
    const table = draw(emptyGrid(2))
    expect(cells(table, 0)).toEqual(['VP 0', 'active', 'not enabled', 'no', 'none', '—'])
    expect(table.querySelectorAll('tbody tr')).toHaveLength(2)
  })

  it('moves VP0 into VTL1 at the VtlCall switch', () => {
    const table = draw(applyEvents(emptyGrid(2), upTo('VTL0->VTL1')))
    expect(cells(table, 0)).toEqual([
      'VP 0',
      'enabled',
      'active',
      'no',
      'none',
      'VTL0→VTL1 VTL_CALL (1)',
    ])
    expect(table.querySelector('td.active')?.getAttribute('data-vtl')).toBe('1')
    expect(cells(table, 1)).toEqual(['VP 1', 'active', 'not enabled', 'no', 'none', '—'])
  })

  it('brings VP0 back to VTL0 with VTL1 still enabled, and says so in words', () => {
    const state = applyEvents(emptyGrid(2), events)
    const table = draw(state)
    expect(cells(table, 0)).toEqual([
      'VP 0',
      'active',
      'enabled',
      'no',
      'none',
      'VTL1→VTL0 VTL_CALL (2)',
    ])
    expect(state.vps[0]?.lastHypercall).toEqual({
      name: 'StartVirtualProcessor',
      status: 'Success',
      vtl: 0,
    })
    const summary = [...host.querySelectorAll('#vp-grid-summary li')].map((li) => li.textContent)
    expect(summary).toEqual([
      'VP 0 runs in VTL0; VTL1 enabled; no pending interrupts; last switch VTL1→VTL0 (VTL_CALL).',
      'VP 1 runs in VTL0; VTL1 not enabled; no pending interrupts.',
    ])
    // Applying the same events again changes nothing (a resumed stream repeats some).
    expect(applyEvents(state, events)).toEqual(state)
  })

  it('shows a VP blocked on a TLB lock and its pending interrupts from the status read', () => {
    const state = applyStatus(applyEvents(emptyGrid(2), events), {
      partition: { guestVsmState: 'Enabled' },
      vps: [
        {
          vp: 0,
          activeVtl: 0,
          vtl1Enabled: true,
          blocked: true,
          pendingInterrupts: { vtl0: [0x40], vtl1: [0x30, 0x31] },
        },
        { vp: 1, activeVtl: 0, vtl1Enabled: false },
      ],
    })
    const table = draw(state)
    expect(cells(table, 0).slice(3, 5)).toEqual([
      'blocked (TLB lock)',
      'VTL0: 0x40; VTL1: 0x30 0x31',
    ])
    expect(table.querySelector('caption')?.textContent).toBe('VPs × VTLs — guest VSM Enabled')
    expect(table.querySelector('tr[data-vp="0"]')?.getAttribute('title')).toContain(
      'blocked on a TLB lock; pending: VTL0 vector 0x40, VTL1 vector 0x30, VTL1 vector 0x31'
    )
  })

  it('moves between cells with the arrow keys', () => {
    const table = draw(applyEvents(emptyGrid(2), events))
    const corner = table.querySelector<HTMLElement>('thead th')
    corner?.focus()
    const press = (key: string) => {
      document.activeElement?.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }))
      return document.activeElement?.textContent
    }
    expect(press('ArrowDown')).toBe('VP 0')
    expect(press('ArrowRight')).toBe('active')
    expect(press('ArrowRight')).toBe('enabled')
    expect(press('ArrowDown')).toBe('not enabled')
    expect(press('Home')).toBe('VP 1')
    expect(press('ArrowDown')).toBe('VP 1')
    expect(table.querySelectorAll('[tabindex="0"]')).toHaveLength(1)
  })
})
