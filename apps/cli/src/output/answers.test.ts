import { describe, expect, it } from 'vitest'
import {
  renderChromeTrace,
  renderDone,
  renderPartitionConfig,
  renderRuns,
  renderStepResult,
  renderTd,
  renderTdList,
  renderTraceEvent,
  renderVsmStatus,
  stepFailed,
} from './answers.js'

describe('human forms of vtld answers', () => {
  it.each([
    [{ status: 'Success', code: 0, activeVtl: 0 }, 'Success (VP in VTL0)', false],
    [
      { status: 'InvalidVtlState', code: 81, activeVtl: 1, processed: 0 },
      'InvalidVtlState processed=0 (VP in VTL1)',
      true,
    ],
    [{ activeVtl: 1 }, 'VP in VTL1', false],
    [{ status: 'Success', repsCompleted: 1 }, 'Success repsCompleted=1', false],
  ])('step result %j → %j (failed: %s)', (answer, text, failed) => {
    expect(renderStepResult(answer)).toBe(text)
    expect(stepFailed(answer)).toBe(failed)
  })

  it.each([[null], ['text'], [[1, 2]], [{ status: 3 }]])('%j is not a failed step', (answer) => {
    expect(stepFailed(answer)).toBe(false)
  })

  it('lists TDs with their memory in units, and says when there are none', () => {
    const table = renderTdList(
      {
        tds: [
          {
            id: 'td-1',
            name: null,
            vps: 2,
            memory: '0x4000000',
            gpaWidth: 48,
            mbec: true,
            state: 'running',
          },
        ],
      },
      80
    )
    expect(table).toMatch(/│ td-1 +│ +│ 2 +│ 64MiB +│ 48 +│ true +│ running +│/)
    expect(renderTdList({ tds: [] }, 80)).toBe('no TDs')
    expect(renderTd({ id: 'td-1', memory: '0x1000' }, 80)).toMatch(/│ memory +│ 4KiB +│/)
  })

  it('shows VSM status as a partition line and a VP table', () => {
    const text = renderVsmStatus(
      {
        id: 'td-1',
        partition: { guestVsmState: 'Enabled', vsmPartitionStatus: '0x310003' },
        vps: [
          { vp: 0, activeVtl: 1, vtl1Enabled: true, vsmVpStatus: '0x30001', readStatus: 'Success' },
        ],
      },
      80
    )
    expect(text.split('\n')[0]).toBe('td-1: guest VSM Enabled, VsmPartitionStatus 0x310003')
    expect(text).toMatch(/│ 0 +│ 1 +│ yes +│ 0x30001 +│ Success +│/)
  })

  it('shows memory runs with their end, size, permissions and flags', () => {
    const text = renderRuns(
      {
        td: 'td-1',
        runs: [
          {
            start: '0x10000',
            size: '0x1000',
            kind: 'ram',
            visibility: 'private',
            accepted: true,
            locked: true,
            vtl0: 'r---',
            vtl1: 'rwxu',
            overlay: { vtl0: false, vtl1: true },
          },
          { start: '0x11000', size: '0x1000', kind: 'ram', visibility: 'private', accepted: false },
          {
            start: '0x12000',
            size: '0x2000',
            kind: 'mmio',
            visibility: 'private',
            accepted: false,
          },
        ],
      },
      80
    )
    expect(text.split('\n')[0]).toBe('td-1: 3 run(s)')
    // 80 columns: the widest column wraps at a space.
    expect(Math.max(...text.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80)
    expect(text).toMatch(
      /│ 0x10000 +│ 0x11000 +│ 4KiB +│ ram +│ private +│ r--- +│ rwxu +│ locked +│\n│( +│){7} overlay1 │/
    )
    expect(text).toMatch(/│ 0x11000 +│ 0x12000 +│ 4KiB +│ ram +│ not accepted +│/)
    expect(text).toMatch(/│ 0x12000 +│ 0x14000 +│ 8KiB +│ mmio +│ +│/)
    expect(() => renderRuns({ td: 't', runs: [{ start: '16', size: '0x1000' }] }, 80)).toThrow(
      expect.objectContaining({ code: 'E_BAD_ANSWER' }) as Error
    )
  })

  it.each([
    [
      renderPartitionConfig,
      { vp: 0, vtl: 1, value: '0x1f', status: 'Success' },
      'HvRegisterVsmPartitionConfig = 0x1f (VP0 at VTL1: Success)',
    ],
    [renderDone, { deleted: 'td-1' }, 'deleted td-1'],
    [renderDone, { td: 'd', file: 'a.json', bytes: 10 }, 'wrote a.json (10 bytes)'],
    [renderDone, { td: 'd', file: 't.json', events: 3 }, 'wrote t.json (3 events)'],
    [
      renderTraceEvent,
      {
        seq: 4,
        vp: 0,
        vtl: 1,
        kind: 'vtl-switch',
        name: 'VTL0->VTL1',
        args: { reason: 'VTL_CALL' },
      },
      '#4 VP0 VTL1 vtl-switch VTL0->VTL1 {"reason":"VTL_CALL"}',
    ],
    [renderChromeTrace, { traceEvents: [{ ph: 'M', name: 'meta' }] }, 'no events'],
    [
      renderChromeTrace,
      { traceEvents: [{ ph: 'X', ts: 1.5, pid: 1, tid: 2, name: 'hypercall', args: {} }] },
      '       1.5 µs  VP1 VTL2  hypercall',
    ],
  ])('%o renders %j', (render, answer, text) => {
    expect(render(answer)).toBe(text)
  })

  it.each([renderTdList, renderTd, renderVsmStatus, renderRuns, renderChromeTrace, renderDone])(
    '%o prints an answer of another shape as JSON instead of failing',
    (render) => {
      expect(render('unexpected', 80)).toBe('"unexpected"')
      expect(render([1], 80)).toBe('[\n  1\n]')
    }
  )
})
