import { describe, expect, it } from 'vitest'
import { HvStatus } from '../hv/status.js'
import { expectVtlError } from '../hv/testing/arbitraries.js'
import {
  checkDefaultVtlProtectionMask,
  checkVsmPartitionConfigBits,
  checkVsmPartitionConfigValue,
} from './vsm-partition-config.js'

const OK = HvStatus.Success
const BAD = HvStatus.InvalidRegisterValue

describe('VsmPartitionConfig pure write rules (§5.5 steps 1, 4, 5)', () => {
  it.each([
    [0x0n, OK],
    [0x7fn, OK],
    [0x80n, BAD], // intercept_acceptance
    [0x200n, BAD], // intercept_vp_startup is refused on CVMs
    [0x1_0000n, BAD], // reserved
    [1n << 63n, BAD],
  ])('step 1: 0x%s → %s', (value, status) => {
    expect(checkVsmPartitionConfigBits(value)).toBe(status)
  })

  it.each([
    [0xf, false, OK],
    [0x3, false, OK],
    [0x7, false, BAD], // R W KX without UX
    [0xb, false, BAD], // R W UX without KX, MBEC off
    [0xb, true, OK], // ... allowed with MBEC
    [0x1, false, BAD], // no W
    [0x2, false, BAD], // W without R (step 4)
    [0x0, false, BAD], // neither
    [0xd, false, BAD], // R KX UX without W (step 5)
  ])('steps 4–5: mask 0x%s (mbec %s) → %s', (mask, mbec, status) => {
    expect(checkDefaultVtlProtectionMask(mask, mbec)).toBe(status)
  })

  it.each([
    [0x1fn, false, OK], // enable + mask 0xF
    [0x7fn, false, OK], // + zero_memory_on_reset + deny_lower_vtl_startup
    [0x1n, false, BAD], // enable, mask 0: lacks R and W
    [0x0n, false, BAD], // the mask is checked even when protection stays off
    [0x17n, true, OK], // mask 0xB (R W UX) with MBEC
    [0x17n, false, BAD],
    [0x21en, false, BAD], // step 1 first: intercept_vp_startup set
  ])('combined: 0x%s (mbec %s) → %s', (value, mbec, status) => {
    expect(checkVsmPartitionConfigValue(value, mbec)).toBe(status)
  })

  it('refuses values of the wrong type or size with typed errors', () => {
    expectVtlError(() => checkVsmPartitionConfigBits(1n << 64n), 'E_FIELD_RANGE')
    expectVtlError(() => checkVsmPartitionConfigBits(1 as unknown as bigint), 'E_FIELD_RANGE')
    expectVtlError(
      () => checkDefaultVtlProtectionMask(0x10, false),
      'E_FIELD_RANGE',
      'VsmPartitionConfig.defaultVtlProtectionMask'
    )
  })
})
