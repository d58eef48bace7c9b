import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeHvInputVtl, encodeHvInputVtl, hvInputVtlFor } from './input-vtl.js'
import { expectVtlError } from './testing/arbitraries.js'
import type { Vtl } from './vtl.js'

describe('HvInputVtl (u8: value 3:0, use_target_vtl 4, reserved 7:5)', () => {
  it.each([
    [0x00, undefined],
    [0x10, 0],
    [0x11, 1],
    [0x12, 2],
    // use_target_vtl clear: the value bits are ignored (§13.9).
    [0x01, undefined],
    [0x0f, undefined],
  ])('0x%s parses to target %s', (byte, target) => {
    const decoded = decodeHvInputVtl(byte)
    expect(decoded.ok).toBe(true)
    if (decoded.ok) expect(decoded.target).toBe(target)
  })

  it.each([
    [0x13, 'vtl-out-of-range'],
    [0x1f, 'vtl-out-of-range'],
    [0x20, 'reserved-bits'],
    [0x31, 'reserved-bits'],
    [0x80, 'reserved-bits'],
    [0xf0, 'reserved-bits'],
  ])('0x%s is refused: %s', (byte, reason) => {
    expect(decodeHvInputVtl(byte)).toEqual({ ok: false, reason })
  })

  it('agrees with the rule on all 256 bytes', () => {
    for (let byte = 0; byte < 256; byte++) {
      const reserved = byte >= 0x20
      const use = (byte & 0x10) === 0x10
      const value = byte % 16
      const decoded = decodeHvInputVtl(byte)
      const expectedOk = !reserved && (!use || value <= 2)
      expect(decoded.ok, `byte 0x${byte.toString(16)}`).toBe(expectedOk)
      if (decoded.ok) {
        expect(decoded.value).toEqual({ targetVtl: value, useTargetVtl: use })
        expect(decoded.target).toBe(use ? value : undefined)
      }
    }
  })

  it('encodes', () => {
    expect(encodeHvInputVtl({ targetVtl: 1, useTargetVtl: true })).toBe(0x11)
    expect(encodeHvInputVtl({ targetVtl: 0, useTargetVtl: false })).toBe(0x00)
    expect(encodeHvInputVtl({ targetVtl: 0xf, useTargetVtl: true })).toBe(0x1f)
    expect(hvInputVtlFor(2)).toBe(0x12)
  })

  it('refuses values that do not fit, with typed errors', () => {
    expectVtlError(
      () => encodeHvInputVtl({ targetVtl: 16, useTargetVtl: true }),
      'E_FIELD_RANGE',
      'HvInputVtl.targetVtl'
    )
    expectVtlError(() => decodeHvInputVtl(256), 'E_FIELD_RANGE', 'HvInputVtl')
    expectVtlError(() => hvInputVtlFor(3 as Vtl), 'E_FIELD_RANGE')
  })

  it('round-trips every parseable input', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 15 }), fc.boolean(), (targetVtl, useTargetVtl) => {
        const input = { targetVtl, useTargetVtl }
        const decoded = decodeHvInputVtl(encodeHvInputVtl(input))
        if (useTargetVtl && targetVtl > 2) expect(decoded.ok).toBe(false)
        else expect(decoded).toMatchObject({ ok: true, value: input })
      })
    )
  })
})
