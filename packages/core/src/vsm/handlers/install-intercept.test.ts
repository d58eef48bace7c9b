import { describe, expect, it } from 'vitest'
import { HV_PARTITION_ID_SELF } from '../../hv/hypercall-code.js'
import { bytes } from '../../hv/testing/arbitraries.js'
import { dispatchHypercall } from '../dispatch.js'
import { snapshotEngine } from '../snapshot.js'
import { bringUpBsp, enterVtl1, makeEngine } from '../testing/harness.js'
import { installIntercept, type InstallInterceptInput } from './install-intercept.js'

const input = (overrides: Partial<InstallInterceptInput> = {}): InstallInterceptInput => ({
  partitionId: HV_PARTITION_ID_SELF,
  accessTypeMask: 0x3,
  interceptType: 0,
  parameters: 0x60n,
  ...overrides,
})

describe('InstallIntercept (§7.4, §13.9)', () => {
  const rows = [
    {
      name: 'partition not SELF → AccessDenied',
      vtl: 1,
      input: input({ partitionId: 0n }),
      status: 0x06,
    },
    { name: 'a VTL0 caller → AccessDenied', vtl: 0, input: input(), status: 0x06 },
    {
      name: 'MSR intercept type → InvalidParameter',
      vtl: 1,
      input: input({ interceptType: 1 }),
      status: 0x05,
    },
    {
      name: 'IO port range type → InvalidParameter',
      vtl: 1,
      input: input({ interceptType: 0xb }),
      status: 0x05,
    },
    {
      name: 'the execute access bit → InvalidParameter',
      vtl: 1,
      input: input({ accessTypeMask: 0x5 }),
      status: 0x05,
    },
  ]
  it.each(rows)('$name', (row) => {
    const h = makeEngine(1)
    bringUpBsp(h)
    if (row.vtl === 1) enterVtl1(h)
    const before = snapshotEngine(h.engine)
    expect(installIntercept(h.engine, 0, row.input)).toBe(row.status)
    expect(snapshotEngine(h.engine)).toEqual(before)
    expect(h.engine.shared.ioIntercept(0x60, false)).toBe(false)
  })

  it('VTL1 installs read and write IO-port intercepts (raw bytes through the dispatcher)', () => {
    const h = makeEngine(1)
    bringUpBsp(h)
    enterVtl1(h)
    // partition SELF, access READ only, type IO port, port 0x64.
    const page = bytes('ffffffffffffffff 01000000 00000000 6400000000000000')
    expect(dispatchHypercall(h.engine, { vp: 0, control: 0x4dn, input: page })).toMatchObject({
      status: 0,
    })
    expect(h.engine.shared.ioIntercept(0x64, false)).toBe(true)
    expect(h.engine.shared.ioIntercept(0x64, true)).toBe(false)
    expect(installIntercept(h.engine, 0, input())).toBe(0)
    expect(h.engine.shared.ioIntercept(0x60, true)).toBe(true)
  })

  it('§13.16: the mask sets each direction, so a narrower mask removes one and 0 removes both', () => {
    const h = makeEngine(1)
    bringUpBsp(h)
    enterVtl1(h)
    expect(installIntercept(h.engine, 0, input({ accessTypeMask: 0x3 }))).toBe(0)
    expect(installIntercept(h.engine, 0, input({ accessTypeMask: 0x2 }))).toBe(0)
    expect(h.engine.shared.ioIntercept(0x60, false)).toBe(false)
    expect(h.engine.shared.ioIntercept(0x60, true)).toBe(true)
    expect(installIntercept(h.engine, 0, input({ accessTypeMask: 0 }))).toBe(0)
    expect(h.engine.shared.ioIntercept(0x60, true)).toBe(false)
  })

  it('guest VSM not Enabled → InvalidVtlState (a VTL1 caller cannot exist then: forced here)', () => {
    const h = makeEngine(1)
    h.engine.vp(0).exitVtl = 1
    expect(installIntercept(h.engine, 0, input())).toBe(0x51)
    expect(h.engine.shared.ioIntercept(0x60, true)).toBe(false)
  })
})
