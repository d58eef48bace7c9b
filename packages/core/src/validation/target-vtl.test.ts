import { describe, expect, it } from 'vitest'
import { HvStatus } from '../hv/status.js'
import { expectVtlError } from '../hv/testing/arbitraries.js'
import { parseTargetVtlFor, resolveInputVtl, type RawTargetVtlCall } from './target-vtl.js'

describe('parseTargetVtlFor (step 0 of the enable and start calls)', () => {
  const calls: [RawTargetVtlCall, HvStatus][] = [
    ['EnablePartitionVtl', HvStatus.AccessDenied],
    ['EnableVpVtl', HvStatus.InvalidParameter],
    ['StartVirtualProcessor', HvStatus.InvalidParameter],
  ]

  it.each(calls)('%s parses 0, 1 and 2', (call) => {
    expect(parseTargetVtlFor(call, 0)).toEqual({ ok: true, vtl: 0 })
    expect(parseTargetVtlFor(call, 1)).toEqual({ ok: true, vtl: 1 })
    expect(parseTargetVtlFor(call, 2)).toEqual({ ok: true, vtl: 2 })
  })

  it.each(calls)('%s refuses 3..255 with status %s', (call, status) => {
    for (const raw of [3, 4, 0x11, 0x80, 0xff]) {
      expect(parseTargetVtlFor(call, raw)).toEqual({ ok: false, status })
    }
  })

  it('refuses an unknown call name with a typed error', () => {
    expectVtlError(
      () => parseTargetVtlFor('toString' as RawTargetVtlCall, 1),
      'E_UNKNOWN_NAME',
      'call'
    )
  })
})

describe('resolveInputVtl', () => {
  it.each([
    [0x00, 1, { ok: true, vtl: 1 }],
    [0x00, 0, { ok: true, vtl: 0 }],
    [0x07, 1, { ok: true, vtl: 1 }],
    [0x10, 1, { ok: true, vtl: 0 }],
    [0x12, 1, { ok: true, vtl: 2 }],
    [0x13, 1, { ok: false, status: HvStatus.InvalidParameter }],
    [0x40, 1, { ok: false, status: HvStatus.InvalidParameter }],
  ] as const)('0x%s from VTL%s → %o', (byte, caller, expected) => {
    expect(resolveInputVtl(byte, caller)).toEqual(expected)
  })
})
