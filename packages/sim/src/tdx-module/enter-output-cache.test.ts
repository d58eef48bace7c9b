import { describe, expect, it } from 'vitest'
import { VmxExitBasic, tdgVpEnter, vmcsFieldCode, VmcsField, tdgVpWr } from '@vtl/core'
import { SoftwareTdxModule } from './software-tdx-module.js'
import type { VpEnterExit } from './types.js'

const ALL = 0xffff_ffff_ffff_ffffn
const ENTER = tdgVpEnter({ vmIndex: 1, invdTranslations: 0 }, 0x3000n)

/** A module whose guest runner answers the given exits in turn (VP 0, VM 1 with a vAPIC page). */
function module(exits: readonly VpEnterExit[]): SoftwareTdxModule {
  let next = 0
  const m = new SoftwareTdxModule({
    vps: 1,
    ram: [{ gpn: 0, pages: 1024 }],
    onEnter: () => exits[next++] as VpEnterExit,
  })
  m.tdcall(0, tdgVpWr(vmcsFieldCode(0, VmcsField.VIRTUAL_APIC_PAGE), 0x5000n, ALL))
  return m
}

// A guest's constant exits (VMCALL, preemption) are frozen objects the module may answer from a cache.
const A: VpEnterExit = Object.freeze({
  exitReason: VmxExitBasic.VMCALL,
  instructionInfo: 3n << 32n,
})
const B: VpEnterExit = Object.freeze({
  exitReason: VmxExitBasic.HLT,
  exitQualification: 0x7n,
  cpl: 3,
})
const OUT_A = { rax: 18n, rcx: 0n, rdx: 0n, r8: 0n, r9: 0n, r10: 0n, r11: 3n << 32n }
const OUT_B = { rax: 12n, rcx: 7n, rdx: 0n, r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 3n }

describe('TDG.VP.ENTER output of frozen exits', () => {
  it('frozen exits A, B, A: each output is its own exit’s, the cached one included', () => {
    const m = module([A, B, A, A])
    const outputs = [0, 1, 2, 3].map(() => ({ ...m.tdcall(0, ENTER) }))
    expect(outputs).toEqual([OUT_A, OUT_B, OUT_A, OUT_A])
  })

  it('carries the L2 CPL in R12[1:0] (none at CPL 0)', () => {
    const m = module([
      Object.freeze({ exitReason: VmxExitBasic.HLT, cpl: 3 }),
      Object.freeze({ exitReason: VmxExitBasic.HLT, cpl: 0 }),
      { exitReason: VmxExitBasic.HLT, cpl: 1 },
    ])
    expect(m.tdcall(0, ENTER).r12).toBe(3n)
    expect('r12' in m.tdcall(0, ENTER)).toBe(false)
    expect(m.tdcall(0, ENTER).r12).toBe(1n)
  })

  it('never caches a non-frozen exit: the same object changed between entries gives new outputs', () => {
    const exit: VpEnterExit = { exitReason: VmxExitBasic.EPT_VIOLATION, gpa: 0x1000n }
    const m = module([exit, exit, exit])
    expect(m.tdcall(0, ENTER).r8).toBe(0x1000n)
    exit.gpa = 0x2000n
    expect(m.tdcall(0, ENTER).r8).toBe(0x2000n)
    exit.exitReason = VmxExitBasic.HLT
    expect(m.tdcall(0, ENTER).rax).toBe(12n)
  })

  it('keeps each module’s cache to itself: two modules sharing a frozen exit', () => {
    const one = module([A, A])
    const two = module([B, A])
    expect(one.tdcall(0, ENTER)).toEqual(OUT_A)
    expect(two.tdcall(0, ENTER)).toEqual(OUT_B)
    expect(two.tdcall(0, ENTER)).toEqual(OUT_A)
    expect(one.tdcall(0, ENTER)).toEqual(OUT_A)
  })
})
