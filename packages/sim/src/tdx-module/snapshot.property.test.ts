import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  TDCS_TD_CTLS,
  TDVPS_L2_CTLS_VM1,
  VmcsField,
  vmcsFieldCode,
  type TdcallInput,
} from '@vtl/core'
import { SoftwareTdxModule } from './software-tdx-module.js'

type Op =
  | { kind: 'tdcall'; vp: number; input: TdcallInput }
  | { kind: 'aug'; gpn: number; pages: number; level: 0 | 1 }
  | { kind: 'remove'; gpn: number; pages: number }

const gpnAt = (level: number, index: number) => BigInt(index * (level === 1 ? 512 : 1))
const FIELDS = [
  vmcsFieldCode(0, VmcsField.GUEST_CR0),
  vmcsFieldCode(1, VmcsField.VIRTUAL_APIC_PAGE),
  vmcsFieldCode(1, VmcsField.GUEST_CS_SELECTOR),
  TDVPS_L2_CTLS_VM1,
]

const slot = fc.constantFrom(0, 0x8000, 0x8001, 0x8003, 0x800f, 0x8002, 0x8101)
const mask = fc.constantFrom(0, 0xf, 0x1, 0x800f, 0x7fff)

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ level: fc.constantFrom(0, 1), index: fc.nat(7) }).map(({ level, index }) => ({
    kind: 'tdcall' as const,
    vp: 0,
    input: { leaf: 6, rcx: (gpnAt(level, index) << 12n) | BigInt(level), rdx: 0n, r8: 0n, r9: 0n },
  })),
  fc
    .record({
      level: fc.constantFrom(0, 1),
      index: fc.nat(7),
      a1: slot,
      a2: slot,
      m1: mask,
      m2: mask,
      vp: fc.nat(2),
    })
    .map(({ level, index, a1, a2, m1, m2, vp }) => ({
      kind: 'tdcall' as const,
      vp,
      input: {
        leaf: 24,
        rcx: (gpnAt(level, index) << 12n) | BigInt(level),
        rdx: (BigInt(a1) << 16n) | (BigInt(a2) << 32n),
        r8: (BigInt(m1) << 16n) | (BigInt(m2) << 32n),
        r9: 0n,
      },
    })),
  fc.record({ page: fc.nat(4095), vp: fc.nat(2) }).map(({ page, vp }) => ({
    kind: 'tdcall' as const,
    vp,
    input: { leaf: 23, rcx: BigInt(page) << 12n, rdx: 0n, r8: 0n, r9: 0n },
  })),
  fc
    .record({
      vp: fc.nat(2),
      field: fc.constantFrom(...FIELDS),
      value: fc.bigInt(0n, 0xffffn),
      m: fc.constantFrom(0xffn, 0xffffn, 3n),
    })
    .map(({ vp, field, value, m }) => ({
      kind: 'tdcall' as const,
      vp,
      input: { leaf: 10, rcx: 0n, rdx: field, r8: value, r9: m },
    })),
  fc.record({ vp: fc.nat(2), field: fc.constantFrom(...FIELDS) }).map(({ vp, field }) => ({
    kind: 'tdcall' as const,
    vp,
    input: { leaf: 9, rcx: 0n, rdx: field, r8: 0n, r9: 0n },
  })),
  fc.bigInt(0n, 0x1fn).map((value) => ({
    kind: 'tdcall' as const,
    vp: 1,
    input: { leaf: 8, rcx: 0n, rdx: TDCS_TD_CTLS, r8: value, r9: 0x1fn },
  })),
  fc
    .record({ vm: fc.constantFrom(1n, 2n), flush: fc.constantFrom(0n, 1n) })
    .map(({ vm, flush }) => ({
      kind: 'tdcall' as const,
      vp: 2,
      input: { leaf: 25, rcx: (vm << 52n) | flush, rdx: 0x3000n, r8: 0n, r9: 0n },
    })),
  fc.record({ index: fc.nat(7), level: fc.constantFrom(0, 1) }).map(({ index, level }) => ({
    kind: 'tdcall' as const,
    vp: 0,
    input: { leaf: 30, rcx: (gpnAt(level, index) << 12n) | BigInt(level), rdx: 0n, r8: 0n, r9: 0n },
  })),
  fc
    .record({
      gpn: fc.nat(4000),
      pages: fc.integer({ min: 1, max: 1024 }),
      level: fc.constantFrom(0, 1),
    })
    .map(({ gpn, pages, level }) => ({ kind: 'aug' as const, gpn, pages, level: level })),
  fc
    .record({ gpn: fc.nat(4000), pages: fc.integer({ min: 1, max: 600 }) })
    .map(({ gpn, pages }) => ({
      kind: 'remove' as const,
      gpn,
      pages,
    }))
)

function apply(m: SoftwareTdxModule, o: Op): unknown {
  if (o.kind === 'aug') {
    m.hostAug(o.gpn, o.pages, o.level)
    return undefined
  }
  if (o.kind === 'remove') {
    m.hostRemove(o.gpn, o.pages)
    return undefined
  }
  return m.tdcall(o.vp, o.input)
}

function fresh(): SoftwareTdxModule {
  return new SoftwareTdxModule({
    vps: 3,
    pageRelease: true,
    requireVirtualApicPage: false,
    ram: [
      { gpn: 0, pages: 2048 },
      { gpn: 2048, pages: 1024, level: 0 },
    ],
  })
}

describe('SoftwareTdxModule save/restore', () => {
  it('fromJSON(toJSON()) behaves identically for any op sequence after the snapshot', () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 40 }),
        fc.array(op, { maxLength: 40 }),
        (before, after) => {
          const a = fresh()
          for (const o of before) apply(a, o)
          const json = JSON.parse(JSON.stringify(a.toJSON())) as ReturnType<
            SoftwareTdxModule['toJSON']
          >
          const b = SoftwareTdxModule.fromJSON(json)
          expect(b.toJSON()).toEqual(a.toJSON())
          for (const o of after) expect(apply(b, o)).toEqual(apply(a, o))
          expect(b.toJSON()).toEqual(a.toJSON())
          a.checkInvariants()
          // The runs agree page for page over the touched range.
          for (let g = 0; g < 4096; g += 97) expect(b.pageAttr(g)).toEqual(a.pageAttr(g))
        }
      ),
      { numRuns: 150, seed: 20261126 }
    )
  })
})
