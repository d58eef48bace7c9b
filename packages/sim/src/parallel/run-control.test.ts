import { describe, expect, it } from 'vitest'
import { RunControl } from './run-control.js'

describe('RunControl run timing', () => {
  it('measures from the start signal to the latest finish any view recorded', () => {
    const owner = new RunControl(4)
    const worker = new RunControl(4, owner.buffer)
    owner.start()
    worker.waitForStart()
    worker.finished()
    const first = owner.elapsedMs()
    expect(first).toBeGreaterThanOrEqual(0)
    new RunControl(4, owner.buffer).finished()
    const last = worker.elapsedMs()
    expect(last).toBeGreaterThanOrEqual(first)
  })

  it('keeps its counters, per-VP words and kicks apart from the times', () => {
    const control = new RunControl(3)
    control.start()
    control.finished()
    const elapsed = control.elapsedMs()
    control.add(0, 5)
    control.addStartWin(2)
    control.setAcknowledged(2, 9)
    control.kick(63)
    expect(control.elapsedMs()).toBe(elapsed)
    expect(control.get(0)).toBe(5)
    expect(control.startWins(2)).toBe(1)
    expect(control.acknowledged(2)).toBe(9)
    expect(control.kicks(63)).toBe(1)
  })
})
