import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  TdxOperandId,
  TdxStatus,
  formatTdxStatus,
  isTdxError,
  isTdxRecoverable,
  isTdxStatus,
  isTdxSuccess,
  isTdxWarning,
  makeTdxStatus,
  tdxStatusClass,
  tdxStatusCode,
  tdxStatusDetails,
  tdxStatusFromName,
  tdxStatusName,
} from './completion-status.js'

const code = (c: string): Error => expect.objectContaining({ code: c }) as Error

// The codes abi.md §3.2 and vsm-on-tdx.md §6.2 name, with the class column of abi.md §3.2
// (or, where it is blank, the class read by hand off bits 15:8 of the code).
const SPEC: readonly (readonly [string, number, number])[] = [
  ['TDX_SUCCESS', 0x0000_0000, 0x00],
  ['TDX_NON_RECOVERABLE_VCPU', 0x4000_0001, 0x00],
  ['TDX_NON_RECOVERABLE_TD', 0x6000_0002, 0x00],
  ['TDX_INTERRUPTED_RESUMABLE', 0x8000_0003, 0x00],
  ['TDX_INTERRUPTED_RESTARTABLE', 0x8000_0004, 0x00],
  ['TDX_NON_RECOVERABLE_TD_NON_ACCESSIBLE', 0x6000_0005, 0x00],
  ['TDX_NON_RECOVERABLE_TD_WRONG_APIC_MODE', 0xe000_0007, 0x00],
  ['TDX_OPERAND_INVALID', 0xc000_0100, 0x01],
  ['TDX_OPERAND_ADDR_RANGE_ERROR', 0xc000_0101, 0x01],
  ['TDX_OPERAND_BUSY', 0x8000_0200, 0x02],
  ['TDX_PREVIOUS_TLB_EPOCH_BUSY', 0x8000_0201, 0x02],
  ['TDX_SYS_BUSY', 0x8000_0202, 0x02],
  ['TDX_OPERAND_BUSY_HOST_PRIORITY', 0x8000_0204, 0x02],
  ['TDX_TD_FATAL', 0xe000_0604, 0x06],
  ['TDX_VCPU_STATE_INCORRECT', 0xc000_0700, 0x07],
  ['TDX_EPT_WALK_FAILED', 0xc000_0b00, 0x0b],
  ['TDX_EPT_ENTRY_FREE', 0xc000_0b01, 0x0b],
  ['TDX_EPT_ENTRY_NOT_PRESENT', 0xc000_0b03, 0x0b],
  ['TDX_PAGE_ALREADY_ACCEPTED', 0x0000_0b0a, 0x0b],
  ['TDX_PAGE_SIZE_MISMATCH', 0xc000_0b0b, 0x0b],
  ['TDX_GPA_RANGE_BLOCKED', 0xc000_0b0c, 0x0b],
  ['TDX_EPT_ENTRY_STATE_INCORRECT', 0xc000_0b0d, 0x0b],
  ['TDX_L2_SEPT_WALK_FAILED', 0xc000_0b0f, 0x0b],
  ['TDX_L2_SEPT_ENTRY_NOT_FREE', 0xc000_0b10, 0x0b],
  ['TDX_PAGE_ATTR_INVALID', 0xc000_0b11, 0x0b],
  ['TDX_L2_SEPT_PAGE_NOT_PROVIDED', 0xc000_0b12, 0x0b],
  ['TDX_METADATA_FIELD_ID_INCORRECT', 0xc000_0c00, 0x0c],
  ['TDX_METADATA_FIELD_NOT_WRITABLE', 0xc000_0c01, 0x0c],
  ['TDX_METADATA_FIELD_NOT_READABLE', 0xc000_0c02, 0x0c],
  ['TDX_METADATA_WR_MASK_NOT_VALID', 0xc000_0c0a, 0x0c],
  ['TDX_L2_EXIT_HOST_ROUTED_ASYNC', 0x0000_1100, 0x11],
  ['TDX_L2_EXIT_HOST_ROUTED_TDVMCALL', 0x0000_1101, 0x11],
  ['TDX_L2_EXIT_PENDING_INTERRUPT', 0x0000_1102, 0x11],
  ['TDX_PENDING_INTERRUPT', 0x0000_1120, 0x11],
  ['TDX_TD_EXIT_BEFORE_L2_ENTRY', 0x0000_1140, 0x11],
  ['TDX_TD_EXIT_ON_L2_VM_EXIT', 0x0000_1141, 0x11],
  ['TDX_TD_EXIT_ON_L2_TO_L1', 0x0000_1142, 0x11],
  ['TDX_GLA_NOT_CANONICAL', 0xc000_1160, 0x11],
]

// The rest of openvmm's `TdCallResultCode` (abi.md §3.2: "Full list … OV-X86TDX"), typed by hand.
const REST: readonly (readonly [string, number])[] = [
  ['TDX_INVALID_RESUMPTION', 0xc000_0006],
  ['TDX_CROSS_TD_FAULT', 0x8000_0008],
  ['TDX_CROSS_TD_TRAP', 0x9000_0009],
  ['TDX_NON_RECOVERABLE_TD_CORRUPTED_MD', 0x6000_000a],
  ['TDX_RND_NO_ENTROPY', 0x8000_0203],
  ['TDX_HOST_PRIORITY_BUSY_TIMEOUT', 0x9000_0205],
  ['TDX_PAGE_METADATA_INCORRECT', 0xc000_0300],
  ['TDX_PAGE_ALREADY_FREE', 0x0000_0301],
  ['TDX_PAGE_NOT_OWNED_BY_TD', 0xc000_0302],
  ['TDX_PAGE_NOT_FREE', 0xc000_0303],
  ['TDX_TD_ASSOCIATED_PAGES_EXIST', 0xc000_0400],
  ['TDX_SYS_INIT_NOT_PENDING', 0xc000_0500],
  ['TDX_SYS_LP_INIT_NOT_DONE', 0xc000_0502],
  ['TDX_SYS_LP_INIT_DONE', 0xc000_0503],
  ['TDX_SYS_NOT_READY', 0xc000_0505],
  ['TDX_SYS_SHUTDOWN', 0xc000_0506],
  ['TDX_SYS_KEY_CONFIG_NOT_PENDING', 0xc000_0507],
  ['TDX_SYS_STATE_INCORRECT', 0xc000_0508],
  ['TDX_SYS_INVALID_HANDOFF', 0xc000_0509],
  ['TDX_SYS_INCOMPATIBLE_SIGSTRUCT', 0xc000_050a],
  ['TDX_SYS_LP_INIT_NOT_PENDING', 0xc000_050b],
  ['TDX_SYS_CONFIG_NOT_PENDING', 0xc000_050c],
  ['TDX_INCOMPATIBLE_SEAM_CAPABILITIES', 0xc000_050d],
  ['TDX_TD_NON_DEBUG', 0xc000_0605],
  ['TDX_TDCS_NOT_ALLOCATED', 0xc000_0606],
  ['TDX_LIFECYCLE_STATE_INCORRECT', 0xc000_0607],
  ['TDX_OP_STATE_INCORRECT', 0xc000_0608],
  ['TDX_NO_VCPUS', 0xc000_0609],
  ['TDX_TDCX_NUM_INCORRECT', 0xc000_0610],
  ['TDX_VCPU_ASSOCIATED', 0x8000_0701],
  ['TDX_VCPU_NOT_ASSOCIATED', 0x8000_0702],
  ['TDX_NO_VALID_VE_INFO', 0xc000_0704],
  ['TDX_MAX_VCPUS_EXCEEDED', 0xc000_0705],
  ['TDX_TSC_ROLLBACK', 0xc000_0706],
  ['TDX_TD_VMCS_FIELD_NOT_INITIALIZED', 0xc000_0730],
  ['TDX_MCS_FIELD_ERROR', 0xc000_0731],
  ['TDX_KEY_GENERATION_FAILED', 0x8000_0800],
  ['TDX_TD_KEYS_NOT_CONFIGURED', 0x8000_0810],
  ['TDX_KEY_STATE_INCORRECT', 0xc000_0811],
  ['TDX_KEY_CONFIGURED', 0x0000_0815],
  ['TDX_WBCACHE_NOT_COMPLETE', 0x8000_0817],
  ['TDX_HKID_NOT_FREE', 0xc000_0820],
  ['TDX_NO_HKID_READY_TO_WBCACHE', 0x0000_0821],
  ['TDX_WBCACHE_RESUME_ERROR', 0xc000_0823],
  ['TDX_FLUSHVP_NOT_DONE', 0x8000_0824],
  ['TDX_NUM_ACTIVATED_HKIDS_NOT_SUPPORTED', 0xc000_0825],
  ['TDX_INCORRECT_CPUID_VALUE', 0xc000_0900],
  ['TDX_LIMIT_CPUID_MAXVAL_SET', 0xc000_0901],
  ['TDX_INCONSISTENT_CPUID_FIELD', 0xc000_0902],
  ['TDX_CPUID_MAX_SUBLEAVES_UNRECOGNIZED', 0xc000_0903],
  ['TDX_CPUID_LEAF_1F_FORMAT_UNRECOGNIZED', 0xc000_0904],
  ['TDX_INVALID_WBINVD_SCOPE', 0xc000_0905],
  ['TDX_INVALID_PKG_ID', 0xc000_0906],
  ['TDX_ENABLE_MONITOR_FSM_NOT_SET', 0xc000_0907],
  ['TDX_CPUID_LEAF_NOT_SUPPORTED', 0xc000_0908],
  ['TDX_SMRR_NOT_LOCKED', 0xc000_0910],
  ['TDX_INVALID_SMRR_CONFIGURATION', 0xc000_0911],
  ['TDX_SMRR_OVERLAPS_CMR', 0xc000_0912],
  ['TDX_SMRR_LOCK_NOT_SUPPORTED', 0xc000_0913],
  ['TDX_SMRR_NOT_SUPPORTED', 0xc000_0914],
  ['TDX_INCONSISTENT_MSR', 0xc000_0920],
  ['TDX_INCORRECT_MSR_VALUE', 0xc000_0921],
  ['TDX_SEAMREPORT_NOT_AVAILABLE', 0xc000_0930],
  ['TDX_SEAMDB_GETREF_NOT_AVAILABLE', 0xc000_0931],
  ['TDX_SEAMDB_REPORT_NOT_AVAILABLE', 0xc000_0932],
  ['TDX_SEAMVERIFYREPORT_NOT_AVAILABLE', 0xc000_0933],
  ['TDX_INVALID_TDMR', 0xc000_0a00],
  ['TDX_NON_ORDERED_TDMR', 0xc000_0a01],
  ['TDX_TDMR_OUTSIDE_CMRS', 0xc000_0a02],
  ['TDX_TDMR_ALREADY_INITIALIZED', 0x0000_0a03],
  ['TDX_INVALID_PAMT', 0xc000_0a10],
  ['TDX_PAMT_OUTSIDE_CMRS', 0xc000_0a11],
  ['TDX_PAMT_OVERLAP', 0xc000_0a12],
  ['TDX_INVALID_RESERVED_IN_TDMR', 0xc000_0a20],
  ['TDX_NON_ORDERED_RESERVED_IN_TDMR', 0xc000_0a21],
  ['TDX_CMR_LIST_INVALID', 0xc000_0a22],
  ['TDX_EPT_ENTRY_NOT_FREE', 0xc000_0b02],
  ['TDX_EPT_ENTRY_NOT_LEAF', 0xc000_0b04],
  ['TDX_EPT_ENTRY_LEAF', 0xc000_0b05],
  ['TDX_GPA_RANGE_NOT_BLOCKED', 0xc000_0b06],
  ['TDX_GPA_RANGE_ALREADY_BLOCKED', 0x0000_0b07],
  ['TDX_TLB_TRACKING_NOT_DONE', 0xc000_0b08],
  ['TDX_EPT_INVALID_PROMOTE_CONDITIONS', 0xc000_0b09],
  ['TDX_EPT_PAGE_NOT_FREE', 0xc000_0b0e],
  ['TDX_METADATA_FIELD_VALUE_NOT_VALID', 0xc000_0c03],
  ['TDX_METADATA_LIST_OVERFLOW', 0xc000_0c04],
  ['TDX_INVALID_METADATA_LIST_HEADER', 0xc000_0c05],
  ['TDX_REQUIRED_METADATA_FIELD_MISSING', 0xc000_0c06],
  ['TDX_METADATA_ELEMENT_SIZE_INCORRECT', 0xc000_0c07],
  ['TDX_METADATA_LAST_ELEMENT_INCORRECT', 0xc000_0c08],
  ['TDX_METADATA_FIELD_CURRENTLY_NOT_WRITABLE', 0xc000_0c09],
  ['TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT', 0x0000_0c0b],
  ['TDX_METADATA_FIELD_SKIP', 0x0000_0c0c],
  ['TDX_SERVTD_ALREADY_BOUND_FOR_TYPE', 0xc000_0d00],
  ['TDX_SERVTD_TYPE_MISMATCH', 0xc000_0d01],
  ['TDX_SERVTD_ATTR_MISMATCH', 0xc000_0d02],
  ['TDX_SERVTD_INFO_HASH_MISMATCH', 0xc000_0d03],
  ['TDX_SERVTD_UUID_MISMATCH', 0xc000_0d04],
  ['TDX_SERVTD_NOT_BOUND', 0xc000_0d05],
  ['TDX_SERVTD_BOUND', 0xc000_0d06],
  ['TDX_TARGET_UUID_MISMATCH', 0xc000_0d07],
  ['TDX_TARGET_UUID_UPDATED', 0xc000_0d08],
  ['TDX_INVALID_MBMD', 0xc000_0e00],
  ['TDX_INCORRECT_MBMD_MAC', 0xc000_0e01],
  ['TDX_NOT_WRITE_BLOCKED', 0xc000_0e02],
  ['TDX_ALREADY_WRITE_BLOCKED', 0x0000_0e03],
  ['TDX_NOT_EXPORTED', 0xc000_0e04],
  ['TDX_MIGRATION_STREAM_STATE_INCORRECT', 0xc000_0e05],
  ['TDX_MAX_MIGS_NUM_EXCEEDED', 0xc000_0e06],
  ['TDX_EXPORTED_DIRTY_PAGES_REMAIN', 0xc000_0e07],
  ['TDX_MIGRATION_DECRYPTION_KEY_NOT_SET', 0xc000_0e08],
  ['TDX_TD_NOT_MIGRATABLE', 0xc000_0e09],
  ['TDX_PREVIOUS_EXPORT_CLEANUP_INCOMPLETE', 0xc000_0e0a],
  ['TDX_NUM_MIGS_HIGHER_THAN_CREATED', 0xc000_0e0b],
  ['TDX_IMPORT_MISMATCH', 0xc000_0e0c],
  ['TDX_MIGRATION_EPOCH_OVERFLOW', 0xc000_0e0d],
  ['TDX_MAX_EXPORTS_EXCEEDED', 0xc000_0e0e],
  ['TDX_INVALID_PAGE_MAC', 0xc000_0e0f],
  ['TDX_MIGRATED_IN_CURRENT_EPOCH', 0xc000_0e10],
  ['TDX_DISALLOWED_IMPORT_OVER_REMOVED', 0xc000_0e11],
  ['TDX_SOME_VCPUS_NOT_MIGRATED', 0xc000_0e12],
  ['TDX_ALL_VCPUS_IMPORTED', 0xc000_0e13],
  ['TDX_MIN_MIGS_NOT_CREATED', 0xc000_0e14],
  ['TDX_VCPU_ALREADY_EXPORTED', 0xc000_0e15],
  ['TDX_INVALID_MIGRATION_DECRYPTION_KEY', 0xc000_0e16],
  ['TDX_INVALID_CPUSVN', 0xc000_1000],
  ['TDX_INVALID_REPORTMACSTRUCT', 0xc000_1001],
]

describe('TdxStatus table', () => {
  it('holds the spec codes and the rest of openvmm’s list, nothing else', () => {
    const all = [...SPEC.map(([n]) => n), ...REST.map(([n]) => n)]
    expect(Object.keys(TdxStatus).sort()).toEqual(all.sort())
    expect(new Set(Object.values(TdxStatus)).size).toBe(all.length)
  })

  it.each(SPEC)('%s = %i (class %i)', (name, value, cls) => {
    expect((TdxStatus as Record<string, number>)[name]).toBe(value)
    expect(tdxStatusName(value)).toBe(name)
    expect(tdxStatusFromName(name)).toBe(value)
    expect(isTdxStatus(value)).toBe(true)
    expect(tdxStatusClass(makeTdxStatus(value))).toBe(cls)
  })

  it.each(REST)('%s = %i', (name, value) => {
    expect((TdxStatus as Record<string, number>)[name]).toBe(value)
    expect(tdxStatusName(value)).toBe(name)
    expect(tdxStatusFromName(name)).toBe(value)
  })

  it('follows the TDX module, not Linux, for TDX_NON_RECOVERABLE_TD', () => {
    expect(TdxStatus.TDX_NON_RECOVERABLE_TD).toBe(0x6000_0002)
    expect(tdxStatusName(0x4000_0002)).toBeUndefined()
  })

  it('accepts names without the TDX_ prefix and rejects unknown or inherited names', () => {
    expect(tdxStatusFromName('OPERAND_BUSY')).toBe(0x8000_0200)
    expect(() => tdxStatusFromName('TDX_NOPE')).toThrow(code('E_UNKNOWN_NAME'))
    expect(() => tdxStatusFromName('constructor')).toThrow(code('E_UNKNOWN_NAME'))
    expect(() => tdxStatusFromName('toString')).toThrow(code('E_UNKNOWN_NAME'))
    expect(tdxStatusName(0x8000_0205)).toBeUndefined()
  })

  it('has the operand ids abi.md §3.2 names', () => {
    expect(TdxOperandId.RCX).toBe(1)
    expect(TdxOperandId.RDX).toBe(2)
    expect(TdxOperandId.R8).toBe(8)
    expect(TdxOperandId.R9).toBe(9)
  })
})

interface Row {
  rax: bigint
  name: string | undefined
  cls: number
  details: number
  error: boolean
  recoverable: boolean
  success: boolean
  warning: boolean
}

// Literal RAX values decoded by hand.
const RAX_ROWS: readonly Row[] = [
  {
    rax: 0xc000_0b0b_0000_0000n,
    name: 'TDX_PAGE_SIZE_MISMATCH',
    cls: 0x0b,
    details: 0,
    error: true,
    recoverable: false,
    success: false,
    warning: false,
  },
  {
    rax: 0x8000_0200_0000_0001n,
    name: 'TDX_OPERAND_BUSY',
    cls: 0x02,
    details: 1,
    error: true,
    recoverable: true,
    success: false,
    warning: false,
  },
  {
    rax: 0xc000_0100_0000_0008n,
    name: 'TDX_OPERAND_INVALID',
    cls: 0x01,
    details: 8,
    error: true,
    recoverable: false,
    success: false,
    warning: false,
  },
  {
    rax: 0x0000_0b0a_0000_0000n,
    name: 'TDX_PAGE_ALREADY_ACCEPTED',
    cls: 0x0b,
    details: 0,
    error: false,
    recoverable: false,
    success: true,
    warning: true,
  },
  {
    rax: 0n,
    name: 'TDX_SUCCESS',
    cls: 0,
    details: 0,
    error: false,
    recoverable: false,
    success: true,
    warning: false,
  },
  {
    rax: 0x0000_1120_0000_0000n,
    name: 'TDX_PENDING_INTERRUPT',
    cls: 0x11,
    details: 0,
    error: false,
    recoverable: false,
    success: true,
    warning: true,
  },
  {
    rax: 0x4000_0001_0000_0000n,
    name: 'TDX_NON_RECOVERABLE_VCPU',
    cls: 0,
    details: 0,
    error: false,
    recoverable: false,
    success: false,
    warning: false,
  },
  {
    rax: 0x6000_0002_0000_0000n,
    name: 'TDX_NON_RECOVERABLE_TD',
    cls: 0,
    details: 0,
    error: false,
    recoverable: false,
    success: false,
    warning: false,
  },
  {
    rax: 0xe000_0604_0000_0000n,
    name: 'TDX_TD_FATAL',
    cls: 0x06,
    details: 0,
    error: true,
    recoverable: false,
    success: false,
    warning: false,
  },
  {
    rax: 0x9000_0205_0000_0002n,
    name: 'TDX_HOST_PRIORITY_BUSY_TIMEOUT',
    cls: 0x02,
    details: 2,
    error: true,
    recoverable: true,
    success: false,
    warning: false,
  },
  {
    rax: 0xc000_0c00_0000_0002n,
    name: 'TDX_METADATA_FIELD_ID_INCORRECT',
    cls: 0x0c,
    details: 2,
    error: true,
    recoverable: false,
    success: false,
    warning: false,
  },
  {
    rax: 0x8000_0201_ffff_ffffn,
    name: 'TDX_PREVIOUS_TLB_EPOCH_BUSY',
    cls: 0x02,
    details: 0xffff_ffff,
    error: true,
    recoverable: true,
    success: false,
    warning: false,
  },
]

describe('status helpers over a full RAX', () => {
  it.each(RAX_ROWS)('$name in $rax', (row) => {
    expect(tdxStatusName(tdxStatusCode(row.rax))).toBe(row.name)
    expect(tdxStatusClass(row.rax)).toBe(row.cls)
    expect(tdxStatusDetails(row.rax)).toBe(row.details)
    expect(isTdxError(row.rax)).toBe(row.error)
    expect(isTdxRecoverable(row.rax)).toBe(row.recoverable)
    expect(isTdxSuccess(row.rax)).toBe(row.success)
    expect(isTdxWarning(row.rax)).toBe(row.warning)
  })

  it('makeTdxStatus puts the code high and the details low', () => {
    expect(makeTdxStatus(0xc000_0b0b)).toBe(0xc000_0b0b_0000_0000n)
    expect(makeTdxStatus(0x8000_0200, 1)).toBe(0x8000_0200_0000_0001n)
    expect(makeTdxStatus(TdxStatus.TDX_OPERAND_INVALID, TdxOperandId.RDX)).toBe(
      0xc000_0100_0000_0002n
    )
  })

  it('makeTdxStatus rejects values that do not fit 32 bits', () => {
    expect(() => makeTdxStatus(0x1_0000_0000)).toThrow(code('E_FIELD_RANGE'))
    expect(() => makeTdxStatus(-1)).toThrow(code('E_FIELD_RANGE'))
    expect(() => makeTdxStatus(0, 0x1_0000_0000)).toThrow(code('E_FIELD_RANGE'))
  })

  it('helpers reject values that are not u64', () => {
    expect(() => tdxStatusCode(-1n)).toThrow(code('E_FIELD_RANGE'))
    expect(() => isTdxError(1n << 64n)).toThrow(code('E_FIELD_RANGE'))
  })

  it('formats name and 16 hex digits', () => {
    expect(formatTdxStatus(0x8000_0200_0000_0001n)).toBe('TDX_OPERAND_BUSY (0x8000020000000001)')
    expect(formatTdxStatus(0n)).toBe('TDX_SUCCESS (0x0000000000000000)')
    expect(formatTdxStatus(0x1234_5678_0000_0000n)).toBe('TDX_UNKNOWN (0x1234567800000000)')
  })

  it('round-trips code and details through RAX', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffff_ffff }), fc.nat({ max: 0xffff_ffff }), (c, d) => {
        const rax = makeTdxStatus(c, d)
        expect(tdxStatusCode(rax)).toBe(c)
        expect(tdxStatusDetails(rax)).toBe(d)
        expect(tdxStatusClass(rax)).toBe((c >>> 8) & 0xff)
      })
    )
  })

  it('every table code is exactly one of success / recoverable error / other failure', () => {
    for (const value of Object.values(TdxStatus)) {
      const rax = makeTdxStatus(value)
      const kinds = [isTdxSuccess(rax), isTdxRecoverable(rax)].filter(Boolean).length
      expect(kinds).toBeLessThanOrEqual(1)
      if (isTdxRecoverable(rax)) expect(isTdxError(rax)).toBe(true)
      if (isTdxSuccess(rax)) expect(isTdxError(rax)).toBe(false)
    }
  })
})
