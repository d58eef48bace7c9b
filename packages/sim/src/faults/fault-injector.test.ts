import { describe, expect, it } from 'vitest'
import {
  HV_PARTITION_ID_SELF,
  VtlError,
  decodeHypercallResult,
  encodeEnablePartitionVtl,
  encodeHypercallControl,
  enablePartitionVtlFlags,
  tdgMemPageAttrWr,
  tdgVpRd,
  tdgMemPageAccept,
  TDVPS_L2_CTLS_VM1,
} from '@vtl/core'
import { SoftwareTdxModule } from '../tdx-module/software-tdx-module.js'
import type { TdcallPort } from '../tdx-module/types.js'
import { UntrustedHypervisor } from '../hypervisor/untrusted-hypervisor.js'
import { FaultInjector, type FaultInjectorJson } from './fault-injector.js'

const attrWr = (gpn: bigint) => tdgMemPageAttrWr({ level: 0, gpn }, 0x8001_0000n, 0xf_0000n)
const module = () => new SoftwareTdxModule({ vps: 2, ram: [{ gpn: 0, pages: 64 }], ramLevel: 0 })
const enablePartition = encodeEnablePartitionVtl({
  partitionId: HV_PARTITION_ID_SELF,
  targetVtl: 1,
  flags: enablePartitionVtlFlags({}),
})
const ctl = (code: number) =>
  encodeHypercallControl({
    code,
    fast: false,
    variableHeaderSize: 0,
    nested: false,
    repCount: 0,
    repStart: 0,
  })

describe('FaultInjector.arm', () => {
  it('fails exactly the (after+1)-th next call of that leaf, once, changing nothing', () => {
    const faults = new FaultInjector(1)
    const mModule = module()
    const m = { ...faults.wrapTdcall(mModule), pageAttr: (gpn: number) => mModule.pageAttr(gpn) }
    faults.arm({ at: 'TDG.MEM.PAGE.ATTR.WR', status: 'TDX_OPERAND_BUSY', after: 2 })
    const rax = [0n, 1n, 2n, 3n, 4n].map((g) => m.tdcall(0, attrWr(g)).rax)
    expect(rax).toEqual([0n, 0n, 0x8000_0200_0000_0000n, 0n, 0n])
    // The failed call reached nothing: page 2 keeps the boot attributes.
    expect(m.pageAttr(2).vm1).toBe(0x800f)
    expect(m.pageAttr(3).vm1).toBe(0x8001)
    expect(faults.fired).toEqual([
      {
        seq: 0,
        kind: 'tdcall',
        at: 'TDG.MEM.PAGE.ATTR.WR',
        status: 'TDX_OPERAND_BUSY',
        vp: 0,
        source: 'armed',
      },
    ])
    expect(faults.pending).toEqual([])
  })

  it('meets a prepared TDG.VP.WR (vpWrStatus) at the same point as tdcall', () => {
    const faults = new FaultInjector(1)
    const mModule = module()
    const m = faults.wrapTdcall(mModule)
    const field = mModule.prepareVpWr(TDVPS_L2_CTLS_VM1, 3n)
    faults.arm({ at: 'TDG.VP.WR', status: 'TDX_OPERAND_BUSY', after: 1 })
    const rax = [1n, 2n, 3n].map((value) => m.vpWrStatus(0, field, value))
    expect(rax).toEqual([0n, 0x8000_0200_0000_0000n, 0n])
    expect(m.tdcall(0, tdgVpRd(TDVPS_L2_CTLS_VM1)).r8).toBe(3n)
    expect(faults.fired.map((f) => [f.at, f.status, f.vp])).toEqual([
      ['TDG.VP.WR', 'TDX_OPERAND_BUSY', 0],
    ])
  })

  it('counts only calls of its own leaf', () => {
    const faults = new FaultInjector()
    const mModule = module()
    const m = { ...faults.wrapTdcall(mModule), pageAttr: (gpn: number) => mModule.pageAttr(gpn) }
    faults.arm({ at: 'TDG.VP.RD', status: 'OPERAND_INVALID' })
    expect(m.tdcall(1, attrWr(0n)).rax).toBe(0n)
    expect(m.tdcall(1, tdgVpRd(TDVPS_L2_CTLS_VM1)).rax).toBe(0xc000_0100_0000_0000n)
    expect(m.tdcall(1, tdgVpRd(TDVPS_L2_CTLS_VM1)).rax).toBe(0n)
  })

  it('fails a forwarded hypercall with an HvStatus and leaves the hypervisor untouched', () => {
    const faults = new FaultInjector()
    const inner = new UntrustedHypervisor({ vps: 1 })
    const hv = faults.wrapHypervisor(inner)
    faults.arm({ at: 'EnablePartitionVtl', status: 'InsufficientMemory' })
    expect(decodeHypercallResult(hv.hypercall(ctl(0x0d), enablePartition).result).status).toBe(
      0x000b
    )
    expect(inner.calls).toEqual([])
    expect(inner.partitionVtl1Enabled).toBe(false)
    expect(decodeHypercallResult(hv.hypercall(ctl(0x0d), enablePartition).result).status).toBe(0)
    expect(hv.partitionVtl1Enabled).toBe(true)
    expect(faults.fired.map((f) => [f.at, f.status, f.source])).toEqual([
      ['EnablePartitionVtl', 'InsufficientMemory', 'armed'],
    ])
  })

  it.each([
    [{ at: 'TDG.MEM.PAGE.NOPE', status: 'TDX_OPERAND_BUSY' }, 'at'],
    [{ at: 'EnableVpVtlz', status: 'Success' }, 'at'],
    [{ at: 'TDG.VP.WR', status: 'TDX_NOT_A_STATUS' }, 'status'],
    [{ at: 'TDG.VP.WR', status: 'AccessDenied' }, 'status'],
    [{ at: 'EnableVpVtl', status: 'TDX_OPERAND_BUSY' }, 'status'],
  ])('%o → E_UNKNOWN_NAME on %s', (options, field) => {
    const error = (() => {
      try {
        new FaultInjector().arm(options)
      } catch (e) {
        return e
      }
      return undefined
    })()
    expect(VtlError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ code: 'E_UNKNOWN_NAME', field })
  })
})

describe('FaultInjector.random', () => {
  function run(seed: number): { failed: number[]; fired: string[] } {
    const faults = new FaultInjector(seed)
    faults.random({
      rate: 0.25,
      tdcallStatuses: ['TDX_OPERAND_BUSY', 'TDX_OPERAND_INVALID'],
      hypercallStatuses: [],
      leaves: ['TDG.MEM.PAGE.ACCEPT'],
    })
    const mModule = new SoftwareTdxModule({ vps: 1 })
    const m = { ...faults.wrapTdcall(mModule), pageAttr: (gpn: number) => mModule.pageAttr(gpn) }
    const failed: number[] = []
    for (let g = 0; g < 64; g++) {
      if (m.tdcall(0, tdgMemPageAccept({ level: 0, gpn: BigInt(g) })).rax !== 0n) failed.push(g)
      // Not an eligible leaf: never fails, never draws.
      expect(m.tdcall(0, tdgVpRd(TDVPS_L2_CTLS_VM1)).rax).toBe(0n)
    }
    for (const g of failed) expect(m.pageAttr(g).accepted).toBe(false)
    return { failed, fired: faults.fired.map((f) => f.status) }
  }

  it('the same seed fails the same calls with the same statuses', () => {
    const a = run(42)
    expect(run(42)).toEqual(a)
    expect(a.failed.length).toBeGreaterThan(4)
    expect(a.failed.length).toBeLessThan(32)
    expect(new Set(a.fired)).toEqual(new Set(['TDX_OPERAND_BUSY', 'TDX_OPERAND_INVALID']))
    expect(run(43).failed).not.toEqual(a.failed)
  })

  it('rate 0 never fails; rate 1 always does', () => {
    const faults = new FaultInjector(7)
    const mModule = module()
    const m = { ...faults.wrapTdcall(mModule), pageAttr: (gpn: number) => mModule.pageAttr(gpn) }
    faults.random({ rate: 0, tdcallStatuses: ['TDX_OPERAND_BUSY'], hypercallStatuses: [] })
    expect(m.tdcall(0, attrWr(1n)).rax).toBe(0n)
    faults.random({ rate: 1, tdcallStatuses: ['TDX_OPERAND_BUSY'], hypercallStatuses: [] })
    expect(m.tdcall(0, attrWr(1n)).rax).toBe(0x8000_0200_0000_0000n)
    expect(() => {
      faults.random({ rate: 1.5, tdcallStatuses: [], hypercallStatuses: [] })
    }).toThrow(/rate/)
  })

  it('hypercall faults only hit the listed calls', () => {
    const faults = new FaultInjector(3)
    faults.random({
      rate: 1,
      tdcallStatuses: [],
      hypercallStatuses: ['InvalidParameter'],
      calls: ['EnableVpVtl'],
    })
    const hv = faults.wrapHypervisor(new UntrustedHypervisor({ vps: 1 }))
    expect(decodeHypercallResult(hv.hypercall(ctl(0x0d), enablePartition).result).status).toBe(0)
    expect(decodeHypercallResult(hv.hypercall(ctl(0x0f), new Uint8Array(240)).result).status).toBe(
      5
    )
  })
})

describe('FaultInjector snapshots', () => {
  it('fromJSON(toJSON()) fails exactly the calls the original would fail next', () => {
    const a = new FaultInjector(99)
    a.random({
      rate: 0.3,
      tdcallStatuses: ['TDX_OPERAND_BUSY'],
      hypercallStatuses: ['InvalidParameter'],
      leaves: ['TDG.MEM.PAGE.ACCEPT'],
    })
    a.arm({ at: 'TDG.VP.RD', status: 'TDX_OPERAND_BUSY', after: 5 })
    const maModule = new SoftwareTdxModule({ vps: 1 })
    const ma = a.wrapTdcall(maModule)
    for (let g = 0; g < 20; g++) ma.tdcall(0, tdgMemPageAccept({ level: 0, gpn: BigInt(g) }))
    ma.tdcall(0, tdgVpRd(TDVPS_L2_CTLS_VM1))

    const b = FaultInjector.fromJSON(JSON.parse(JSON.stringify(a.toJSON())) as FaultInjectorJson)
    expect(b.toJSON()).toEqual(a.toJSON())
    expect(b.pending).toEqual([{ at: 'TDG.VP.RD', status: 'TDX_OPERAND_BUSY', remaining: 4 }])
    const mbModule = new SoftwareTdxModule({ vps: 1 })
    const mb = b.wrapTdcall(mbModule)
    const next = (m: TdcallPort) => {
      const out: bigint[] = []
      for (let g = 20; g < 60; g++)
        out.push(m.tdcall(0, tdgMemPageAccept({ level: 0, gpn: BigInt(g) })).rax)
      for (let i = 0; i < 6; i++) out.push(m.tdcall(0, tdgVpRd(TDVPS_L2_CTLS_VM1)).rax)
      return out
    }
    const outA = next(ma)
    expect(next(mb)).toEqual(outA)
    expect(outA.filter((r) => r !== 0n).length).toBeGreaterThan(3)
    expect(b.toJSON()).toEqual(a.toJSON())
  })
})
