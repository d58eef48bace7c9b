import { describe, expect, it } from 'vitest'
import { TdcallLeaf, VmcsField, tdgVpRd, tdgVpWr, vmcsFieldCode } from '@vtl/core'
import { SoftwareTdxModule } from './software-tdx-module.js'

const ALL = 0xffff_ffff_ffff_ffffn
const CR3_VTL1 = vmcsFieldCode(1, VmcsField.GUEST_CR3)
const SELECTOR_VTL0 = vmcsFieldCode(0, VmcsField.GUEST_CS_SELECTOR)
/** VM_EXIT_REASON (0x4402), 32-bit, VMCS_1: exit information is read-only. */
const EXIT_REASON_VTL0 = 0x2420_0002_0000_4402n
/** VMCS_3 GUEST_CR3: no VM #3 on a module with numL2Vms = 2. */
const CR3_VM3 = vmcsFieldCode(1, VmcsField.GUEST_CR3) + (8n << 56n)

// vpWrStatus (the prepared, RAX-only TDG.VP.WR) against the full tdcall, case by case: the same
// status, the same stored value, and the same observer count.
describe('vpWrStatus answers as TDG.VP.WR does', () => {
  it.each([
    ['a whole 64-bit field', CR3_VTL1, 0x1234_5000n, ALL],
    ['a 16-bit field with a 16-bit mask', SELECTOR_VTL0, 0x10n, 0xffffn],
    ['a value beyond the field (all-ones mask)', SELECTOR_VTL0, 0x1_0010n, ALL],
    ['a read-only field', EXIT_REASON_VTL0, 1n, ALL],
    ['an unknown field id', 0x1234n, 1n, ALL],
    ['a VMCS of a VM the TD does not have', CR3_VM3, 1n, ALL],
  ])('%s', (_name, id, value, mask) => {
    const seen: [number, bigint][] = []
    const full = new SoftwareTdxModule({
      vps: 2,
      onTdcall: (_vp, i, o) => seen.push([i.leaf, o.rax]),
    })
    const fast = new SoftwareTdxModule({
      vps: 2,
      onTdcallStatus: (_vp, leaf, rax) => seen.push([leaf, rax]),
    })
    const expected = full.tdcall(1, tdgVpWr(id, value, mask)).rax
    for (const field of [fast.prepareVpWr(id, mask), { id, mask }, full.prepareVpWr(id, mask)]) {
      expect(fast.vpWrStatus(1, field, value)).toBe(expected)
    }
    expect(fast.tdcall(1, tdgVpRd(id))).toEqual(full.tdcall(1, tdgVpRd(id)))
    const writes = seen.filter(([leaf]) => leaf === TdcallLeaf['TDG.VP.WR'])
    expect(writes).toEqual(Array.from({ length: 4 }, () => [TdcallLeaf['TDG.VP.WR'], expected]))
  })

  it('keeps the bits a restored snapshot put beyond a field, as TDG.VP.WR does', () => {
    const saved = new SoftwareTdxModule({ vps: 2 }).toJSON()
    // GUEST_CS_SELECTOR of VMCS #1 (16-bit) holding a 17-bit value: a hand-edited snapshot.
    saved.vpState['1'] = { fields: { [`v1:${VmcsField.GUEST_CS_SELECTOR}`]: '0x10007' }, enters: 0 }
    const full = SoftwareTdxModule.fromJSON(saved)
    const fast = SoftwareTdxModule.fromJSON(saved)
    const rax = full.tdcall(1, tdgVpWr(SELECTOR_VTL0, 0x10n, 0xffffn)).rax
    expect(fast.vpWrStatus(1, fast.prepareVpWr(SELECTOR_VTL0, 0xffffn), 0x10n)).toBe(rax)
    expect(fast.vpFieldRead(1, SELECTOR_VTL0)).toBe(0x1_0010n)
    expect(full.vpFieldRead(1, SELECTOR_VTL0)).toBe(0x1_0010n)
  })

  it('refuses a VP outside the TD', () => {
    const m = new SoftwareTdxModule({ vps: 2 })
    expect(() => m.vpWrStatus(2, m.prepareVpWr(CR3_VTL1, ALL), 0n)).toThrow(/outside/)
  })
})
