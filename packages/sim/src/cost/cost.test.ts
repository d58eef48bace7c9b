import { describe, expect, it } from 'vitest'
import { CostModel, DEFAULT_COSTS } from './cost-model.js'
import { SimClock } from './sim-clock.js'

describe('CostModel', () => {
  it.each([
    [{ kind: 'l2-exit' } as const, 1400],
    [{ kind: 'vp-enter' } as const, 1600],
    [{ kind: 'ioctl' } as const, 600],
    [{ kind: 'tdcall', leaf: 'TDG.MEM.PAGE.ATTR.WR' } as const, 900],
    [{ kind: 'tdcall', leaf: 'TDG.VM.RD' } as const, 500],
    [{ kind: 'tdcall', leaf: undefined } as const, 500],
    [{ kind: 'hypercall-forward' } as const, 8300],
    [{ kind: 'vtl-switch' } as const, 300],
  ])('default cost of %o is %d cycles', (event, cycles) => {
    expect(new CostModel().cost(event)).toBe(cycles)
  })

  it('prices a VTL call as its hops', () => {
    // exit + 2 crossings + handler + switch + enter
    expect(new CostModel().vtlCallRoundTrip()).toBe(1400 + 1200 + 1000 + 300 + 1600)
  })

  it('takes overrides, per leaf too, and refuses negative costs', () => {
    const model = new CostModel({ vpEnter: 10, tdcallByLeaf: { 'TDG.VP.WR': 7 } })
    expect(model.cost({ kind: 'vp-enter' })).toBe(10)
    expect(model.tdcall('TDG.VP.WR')).toBe(7)
    expect(model.tdcall('TDG.MEM.PAGE.ACCEPT')).toBe(
      DEFAULT_COSTS.tdcallByLeaf['TDG.MEM.PAGE.ACCEPT']
    )
    expect(() => new CostModel({ l2ToL1Exit: -1 })).toThrow(/l2ToL1Exit/)
    expect(model.toJSON().tdcallByLeaf['TDG.VP.WR']).toBe(7)
  })
})

describe('SimClock', () => {
  it('advances per VP and converts to hardware time', () => {
    const clock = new SimClock(1024, 2.5)
    expect(clock.advance(3, 1000)).toBe(1000)
    expect(clock.advance(3, 500)).toBe(1500)
    expect(clock.now(4)).toBe(0)
    expect(clock.syncTo(4, 1200)).toBe(1200)
    expect(clock.syncTo(3, 10)).toBe(1500)
    expect(clock.max()).toBe(1500)
    expect(clock.hardwareNs(3)).toBe(600)
    expect(clock.hardwareNs()).toBe(600)
    expect(clock.toJSON()).toEqual({ vps: 1024, ghz: 2.5, cycles: { '3': 1500, '4': 1200 } })
    expect(SimClock.fromJSON(clock.toJSON()).toJSON()).toEqual(clock.toJSON())
    expect(() => clock.advance(1024, 1)).toThrow(/VP 1024/)
    expect(() => clock.advance(0, -1)).toThrow(/cycles/)
  })
})
