import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { HV_PARTITION_ID_SELF, encodeHypercallControl } from '@vtl/core'
import { UntrustedHypervisor, type UntrustedHypervisorJson } from './untrusted-hypervisor.js'

interface Call {
  control: bigint
  input: Uint8Array
}

const control = (code: number, repCount = 0, repStart = 0) =>
  encodeHypercallControl({
    code,
    fast: false,
    variableHeaderSize: 0,
    nested: false,
    repCount,
    repStart,
  })

function header(size: number): [Uint8Array, DataView] {
  const bytes = new Uint8Array(size)
  const view = new DataView(bytes.buffer)
  view.setBigUint64(0, HV_PARTITION_ID_SELF, true)
  return [bytes, view]
}

const call: fc.Arbitrary<Call> = fc.oneof(
  fc.record({ vtl: fc.nat(3), flags: fc.nat(3) }).map(({ vtl, flags }) => {
    const [bytes, view] = header(16)
    view.setUint8(8, vtl)
    view.setUint8(9, flags)
    return { control: control(0x0d), input: bytes }
  }),
  fc.record({ vp: fc.nat(4), vtl: fc.nat(2), dirty: fc.boolean() }).map(({ vp, vtl, dirty }) => {
    const [bytes, view] = header(240)
    view.setUint32(8, vp, true)
    view.setUint8(12, vtl)
    if (dirty) bytes[100] = 1
    return { control: control(0x0f), input: bytes }
  }),
  fc
    .record({
      vis: fc.constantFrom(0, 1, 3),
      gpns: fc.array(fc.nat(64), { minLength: 1, maxLength: 6 }),
      start: fc.nat(2),
    })
    .map(({ vis, gpns, start }) => {
      const [bytes, view] = header(16 + 8 * gpns.length)
      view.setUint32(8, vis, true)
      gpns.forEach((g, i) => {
        view.setBigUint64(16 + 8 * i, BigInt(g), true)
      })
      return { control: control(0xdb, gpns.length, Math.min(start, gpns.length)), input: bytes }
    }),
  fc.nat(0x200).map((code) => ({ control: control(code), input: new Uint8Array([code & 0xff]) }))
)

describe('UntrustedHypervisor save/restore', () => {
  it('fromJSON(toJSON()) answers every later call identically', () => {
    fc.assert(
      fc.property(
        fc.array(call, { maxLength: 30 }),
        fc.array(call, { maxLength: 30 }),
        (before, after) => {
          const a = new UntrustedHypervisor({ vps: 4, recordLimit: 16 })
          for (const c of before) a.hypercall(c.control, c.input)
          const b = UntrustedHypervisor.fromJSON(
            JSON.parse(JSON.stringify(a.toJSON())) as UntrustedHypervisorJson,
            16
          )
          for (const c of after)
            expect(b.hypercall(c.control, c.input)).toEqual(a.hypercall(c.control, c.input))
          expect(b.toJSON()).toEqual(a.toJSON())
          for (let g = 0; g < 70; g++) expect(b.isShared(g)).toBe(a.isShared(g))
        }
      ),
      { numRuns: 200, seed: 7 }
    )
  })
})
