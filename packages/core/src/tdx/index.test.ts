import { describe, expect, it } from 'vitest'
import * as core from '../index.js'
import * as tdx from './index.js'

// The barrel is the public surface: every value the tdx files define for others must be on it,
// and through it on @vtl/core's root.
const VALUES = [
  'TdcallLeaf',
  'tdcallLeafName',
  'tdcallLeafFromName',
  'encodeTdcallRax',
  'decodeTdcallRax',
  'TdxStatus',
  'TdxOperandId',
  'tdxStatusCode',
  'tdxStatusDetails',
  'tdxStatusClass',
  'isTdxError',
  'isTdxRecoverable',
  'isTdxSuccess',
  'makeTdxStatus',
  'TdVpsClassCode',
  'encodeTdxExtendedFieldCode',
  'decodeTdxExtendedFieldCode',
  'TDCS_CONFIG_FLAGS',
  'TDVPS_L2_CTLS_VM2',
  'VmcsField',
  'vmcsFieldCode',
  'encodeTdxVmFlags',
  'encodeTdxL2Ctls',
  'encodeTdxGlaVmAndFlags',
  'encodeTdxGlaListInfo',
  'msrBitmapPosition',
  'msrBitmapFieldId',
  'encodeTdxL2EnterGuestState',
  'decodeTdxL2EnterGuestState',
  'VmxExitBasic',
  'decodeTdxVpEnterResult',
  'tdgMemPageAccept',
  'tdgMemPageAttrRd',
  'tdgMemPageAttrWr',
  'tdgVpRd',
  'tdgVpWr',
  'tdgVmRd',
  'tdgVmWr',
  'tdgMemPageRelease',
  'tdgVpEnter',
  'tdgVpInvgla',
  'attrWriteOperands',
  'encodeGpaOperand',
  'classifyGpa',
]

describe('tdx barrel', () => {
  it.each(VALUES)('exports %s from tdx and from the package root', (name) => {
    expect((tdx as Record<string, unknown>)[name]).toBeDefined()
    expect((core as Record<string, unknown>)[name]).toBe((tdx as Record<string, unknown>)[name])
  })

  it('does not leak the internal u64 helpers', () => {
    expect('checkU64' in tdx).toBe(false)
    expect('checkReserved' in tdx).toBe(false)
  })
})
