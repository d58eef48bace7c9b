import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  TdcallLeaf,
  decodeTdcallRax,
  encodeTdcallRax,
  isTdcallLeaf,
  tdcallLeafFromName,
  tdcallLeafName,
} from './leaf.js'

const code = (c: string): Error => expect.objectContaining({ code: c }) as Error

// abi.md §3.1 / vsm-on-tdx.md §6.2, typed by hand.
const LEAVES: readonly (readonly [string, number])[] = [
  ['TDG.VP.VMCALL', 0],
  ['TDG.VP.INFO', 1],
  ['TDG.MR.RTMR.EXTEND', 2],
  ['TDG.VP.VEINFO.GET', 3],
  ['TDG.MR.REPORT', 4],
  ['TDG.VP.CPUIDVE.SET', 5],
  ['TDG.MEM.PAGE.ACCEPT', 6],
  ['TDG.VM.RD', 7],
  ['TDG.VM.WR', 8],
  ['TDG.VP.RD', 9],
  ['TDG.VP.WR', 10],
  ['TDG.SYS.RD', 11],
  ['TDG.SYS.RDALL', 12],
  ['TDG.SERVTD.RD', 18],
  ['TDG.SERVTD.WR', 20],
  ['TDG.MR.VERIFYREPORT', 22],
  ['TDG.MEM.PAGE.ATTR.RD', 23],
  ['TDG.MEM.PAGE.ATTR.WR', 24],
  ['TDG.VP.ENTER', 25],
  ['TDG.VP.INVEPT', 26],
  ['TDG.VP.INVGLA', 27],
  ['TDG.MR.KEY.GET', 29],
  ['TDG.MEM.PAGE.RELEASE', 30],
]

describe('TdcallLeaf', () => {
  it('lists exactly the 23 leaves of the spec', () => {
    expect(Object.keys(TdcallLeaf).sort()).toEqual(LEAVES.map(([n]) => n).sort())
  })

  it.each(LEAVES)('%s = %i, both ways', (name, leaf) => {
    expect((TdcallLeaf as Record<string, number>)[name]).toBe(leaf)
    expect(tdcallLeafName(leaf)).toBe(name)
    expect(tdcallLeafFromName(name)).toBe(leaf)
    expect(isTdcallLeaf(leaf)).toBe(true)
  })

  it.each([13, 14, 15, 16, 17, 19, 21, 28, 31, 0xffff, -1])('does not name %i', (leaf) => {
    expect(tdcallLeafName(leaf)).toBeUndefined()
    expect(isTdcallLeaf(leaf)).toBe(false)
  })

  it('accepts the TDX module C spelling and the 1.5 name of leaf 27', () => {
    expect(tdcallLeafFromName('TDG_MEM_PAGE_ATTR_WR')).toBe(24)
    expect(tdcallLeafFromName('TDG_VP_ENTER_LEAF')).toBe(25)
    expect(tdcallLeafFromName('TDG.VP.INVVPID')).toBe(27)
    expect(tdcallLeafFromName('TDG_VP_INVVPID_LEAF')).toBe(27)
  })

  it.each(['TDG.VP.ENABLE_VTL', 'TDH.VP.ENTER', 'tdg.vp.enter', '', 'toString', '__proto__'])(
    'rejects %j with E_UNKNOWN_NAME',
    (name) => {
      expect(() => tdcallLeafFromName(name)).toThrow(code('E_UNKNOWN_NAME'))
    }
  )
})

describe('TDCALL RAX', () => {
  it.each([
    [24, 0, 0x18n],
    [25, 0, 0x19n],
    [9, 1, 0x1_0009n],
    [0xffff, 0xff, 0xff_ffffn],
  ])('leaf %i version %i → %s', (leaf, version, rax) => {
    expect(encodeTdcallRax(leaf, version)).toBe(rax)
    expect(decodeTdcallRax(rax)).toEqual({ leaf, version })
  })

  it('defaults to version 0', () => {
    expect(encodeTdcallRax(6)).toBe(6n)
  })

  it('rejects out-of-range leaf and version', () => {
    expect(() => encodeTdcallRax(0x1_0000)).toThrow(code('E_FIELD_RANGE'))
    expect(() => encodeTdcallRax(-1)).toThrow(code('E_FIELD_RANGE'))
    expect(() => encodeTdcallRax(1.5)).toThrow(code('E_FIELD_RANGE'))
    expect(() => encodeTdcallRax(1, 0x100)).toThrow(code('E_FIELD_RANGE'))
  })

  it('rejects reserved bits 63:24 and non-u64 values', () => {
    expect(() => decodeTdcallRax(0x100_0000n)).toThrow(code('E_RESERVED_BITS'))
    expect(() => decodeTdcallRax(0x8000_0000_0000_0018n)).toThrow(code('E_RESERVED_BITS'))
    expect(() => decodeTdcallRax(-1n)).toThrow(code('E_FIELD_RANGE'))
    expect(() => decodeTdcallRax(1n << 64n)).toThrow(code('E_FIELD_RANGE'))
  })

  it('round-trips every leaf and version', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xff }),
        (l, v) => {
          expect(decodeTdcallRax(encodeTdcallRax(l, v))).toEqual({ leaf: l, version: v })
        }
      )
    )
  })
})
