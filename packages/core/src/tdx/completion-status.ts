import { VtlError } from '../errors/vtl-error.js'
import { checkInt, checkU64, hex64 } from './u64.js'
import { nameIndex } from '../internal/name-index.js'

/**
 * TDCALL completion status codes: the value of RAX[63:32] after a TDCALL (TDX module
 * `tdx_error_codes_defs.h`, openvmm `TdCallResultCode`; abi.md §3.2, vsm-on-tdx.md §6.2).
 * Bits of the code: 31 error, 30 non-recoverable, 29 fatal, 28 host-recoverability hint,
 * 15:8 class, 7:0 the code within its class.
 */
export const TdxStatus = {
  TDX_SUCCESS: 0x0000_0000,
  TDX_NON_RECOVERABLE_VCPU: 0x4000_0001,
  // The TDX module source and openvmm say 0x60000002; Linux tdx_errno.h says 0x40000002. We follow
  // the module: bit 29 (fatal) is set because the whole TD, not one vCPU, is lost.
  TDX_NON_RECOVERABLE_TD: 0x6000_0002,
  TDX_INTERRUPTED_RESUMABLE: 0x8000_0003,
  TDX_INTERRUPTED_RESTARTABLE: 0x8000_0004,
  TDX_NON_RECOVERABLE_TD_NON_ACCESSIBLE: 0x6000_0005,
  TDX_INVALID_RESUMPTION: 0xc000_0006,
  TDX_NON_RECOVERABLE_TD_WRONG_APIC_MODE: 0xe000_0007,
  TDX_CROSS_TD_FAULT: 0x8000_0008,
  TDX_CROSS_TD_TRAP: 0x9000_0009,
  TDX_NON_RECOVERABLE_TD_CORRUPTED_MD: 0x6000_000a,
  TDX_OPERAND_INVALID: 0xc000_0100,
  TDX_OPERAND_ADDR_RANGE_ERROR: 0xc000_0101,
  TDX_OPERAND_BUSY: 0x8000_0200,
  TDX_PREVIOUS_TLB_EPOCH_BUSY: 0x8000_0201,
  TDX_SYS_BUSY: 0x8000_0202,
  TDX_RND_NO_ENTROPY: 0x8000_0203,
  TDX_OPERAND_BUSY_HOST_PRIORITY: 0x8000_0204,
  TDX_HOST_PRIORITY_BUSY_TIMEOUT: 0x9000_0205,
  TDX_PAGE_METADATA_INCORRECT: 0xc000_0300,
  TDX_PAGE_ALREADY_FREE: 0x0000_0301,
  TDX_PAGE_NOT_OWNED_BY_TD: 0xc000_0302,
  TDX_PAGE_NOT_FREE: 0xc000_0303,
  TDX_TD_ASSOCIATED_PAGES_EXIST: 0xc000_0400,
  TDX_SYS_INIT_NOT_PENDING: 0xc000_0500,
  TDX_SYS_LP_INIT_NOT_DONE: 0xc000_0502,
  TDX_SYS_LP_INIT_DONE: 0xc000_0503,
  TDX_SYS_NOT_READY: 0xc000_0505,
  TDX_SYS_SHUTDOWN: 0xc000_0506,
  TDX_SYS_KEY_CONFIG_NOT_PENDING: 0xc000_0507,
  TDX_SYS_STATE_INCORRECT: 0xc000_0508,
  TDX_SYS_INVALID_HANDOFF: 0xc000_0509,
  TDX_SYS_INCOMPATIBLE_SIGSTRUCT: 0xc000_050a,
  TDX_SYS_LP_INIT_NOT_PENDING: 0xc000_050b,
  TDX_SYS_CONFIG_NOT_PENDING: 0xc000_050c,
  TDX_INCOMPATIBLE_SEAM_CAPABILITIES: 0xc000_050d,
  TDX_TD_FATAL: 0xe000_0604,
  TDX_TD_NON_DEBUG: 0xc000_0605,
  TDX_TDCS_NOT_ALLOCATED: 0xc000_0606,
  TDX_LIFECYCLE_STATE_INCORRECT: 0xc000_0607,
  TDX_OP_STATE_INCORRECT: 0xc000_0608,
  TDX_NO_VCPUS: 0xc000_0609,
  TDX_TDCX_NUM_INCORRECT: 0xc000_0610,
  TDX_VCPU_STATE_INCORRECT: 0xc000_0700,
  TDX_VCPU_ASSOCIATED: 0x8000_0701,
  TDX_VCPU_NOT_ASSOCIATED: 0x8000_0702,
  TDX_NO_VALID_VE_INFO: 0xc000_0704,
  TDX_MAX_VCPUS_EXCEEDED: 0xc000_0705,
  TDX_TSC_ROLLBACK: 0xc000_0706,
  TDX_TD_VMCS_FIELD_NOT_INITIALIZED: 0xc000_0730,
  TDX_MCS_FIELD_ERROR: 0xc000_0731,
  TDX_KEY_GENERATION_FAILED: 0x8000_0800,
  TDX_TD_KEYS_NOT_CONFIGURED: 0x8000_0810,
  TDX_KEY_STATE_INCORRECT: 0xc000_0811,
  TDX_KEY_CONFIGURED: 0x0000_0815,
  TDX_WBCACHE_NOT_COMPLETE: 0x8000_0817,
  TDX_HKID_NOT_FREE: 0xc000_0820,
  TDX_NO_HKID_READY_TO_WBCACHE: 0x0000_0821,
  TDX_WBCACHE_RESUME_ERROR: 0xc000_0823,
  TDX_FLUSHVP_NOT_DONE: 0x8000_0824,
  TDX_NUM_ACTIVATED_HKIDS_NOT_SUPPORTED: 0xc000_0825,
  TDX_INCORRECT_CPUID_VALUE: 0xc000_0900,
  TDX_LIMIT_CPUID_MAXVAL_SET: 0xc000_0901,
  TDX_INCONSISTENT_CPUID_FIELD: 0xc000_0902,
  TDX_CPUID_MAX_SUBLEAVES_UNRECOGNIZED: 0xc000_0903,
  TDX_CPUID_LEAF_1F_FORMAT_UNRECOGNIZED: 0xc000_0904,
  TDX_INVALID_WBINVD_SCOPE: 0xc000_0905,
  TDX_INVALID_PKG_ID: 0xc000_0906,
  TDX_ENABLE_MONITOR_FSM_NOT_SET: 0xc000_0907,
  TDX_CPUID_LEAF_NOT_SUPPORTED: 0xc000_0908,
  TDX_SMRR_NOT_LOCKED: 0xc000_0910,
  TDX_INVALID_SMRR_CONFIGURATION: 0xc000_0911,
  TDX_SMRR_OVERLAPS_CMR: 0xc000_0912,
  TDX_SMRR_LOCK_NOT_SUPPORTED: 0xc000_0913,
  TDX_SMRR_NOT_SUPPORTED: 0xc000_0914,
  TDX_INCONSISTENT_MSR: 0xc000_0920,
  TDX_INCORRECT_MSR_VALUE: 0xc000_0921,
  TDX_SEAMREPORT_NOT_AVAILABLE: 0xc000_0930,
  TDX_SEAMDB_GETREF_NOT_AVAILABLE: 0xc000_0931,
  TDX_SEAMDB_REPORT_NOT_AVAILABLE: 0xc000_0932,
  TDX_SEAMVERIFYREPORT_NOT_AVAILABLE: 0xc000_0933,
  TDX_INVALID_TDMR: 0xc000_0a00,
  TDX_NON_ORDERED_TDMR: 0xc000_0a01,
  TDX_TDMR_OUTSIDE_CMRS: 0xc000_0a02,
  TDX_TDMR_ALREADY_INITIALIZED: 0x0000_0a03,
  TDX_INVALID_PAMT: 0xc000_0a10,
  TDX_PAMT_OUTSIDE_CMRS: 0xc000_0a11,
  TDX_PAMT_OVERLAP: 0xc000_0a12,
  TDX_INVALID_RESERVED_IN_TDMR: 0xc000_0a20,
  TDX_NON_ORDERED_RESERVED_IN_TDMR: 0xc000_0a21,
  TDX_CMR_LIST_INVALID: 0xc000_0a22,
  TDX_EPT_WALK_FAILED: 0xc000_0b00,
  TDX_EPT_ENTRY_FREE: 0xc000_0b01,
  TDX_EPT_ENTRY_NOT_FREE: 0xc000_0b02,
  TDX_EPT_ENTRY_NOT_PRESENT: 0xc000_0b03,
  TDX_EPT_ENTRY_NOT_LEAF: 0xc000_0b04,
  TDX_EPT_ENTRY_LEAF: 0xc000_0b05,
  TDX_GPA_RANGE_NOT_BLOCKED: 0xc000_0b06,
  TDX_GPA_RANGE_ALREADY_BLOCKED: 0x0000_0b07,
  TDX_TLB_TRACKING_NOT_DONE: 0xc000_0b08,
  TDX_EPT_INVALID_PROMOTE_CONDITIONS: 0xc000_0b09,
  /** A warning: ACCEPT of a page that is already accepted. */
  TDX_PAGE_ALREADY_ACCEPTED: 0x0000_0b0a,
  /** ACCEPT / ATTR.WR at 2 MiB over a range mapped smaller: OpenHCL retries at 4 KiB. */
  TDX_PAGE_SIZE_MISMATCH: 0xc000_0b0b,
  TDX_GPA_RANGE_BLOCKED: 0xc000_0b0c,
  TDX_EPT_ENTRY_STATE_INCORRECT: 0xc000_0b0d,
  TDX_EPT_PAGE_NOT_FREE: 0xc000_0b0e,
  TDX_L2_SEPT_WALK_FAILED: 0xc000_0b0f,
  TDX_L2_SEPT_ENTRY_NOT_FREE: 0xc000_0b10,
  TDX_PAGE_ATTR_INVALID: 0xc000_0b11,
  TDX_L2_SEPT_PAGE_NOT_PROVIDED: 0xc000_0b12,
  TDX_METADATA_FIELD_ID_INCORRECT: 0xc000_0c00,
  TDX_METADATA_FIELD_NOT_WRITABLE: 0xc000_0c01,
  TDX_METADATA_FIELD_NOT_READABLE: 0xc000_0c02,
  TDX_METADATA_FIELD_VALUE_NOT_VALID: 0xc000_0c03,
  TDX_METADATA_LIST_OVERFLOW: 0xc000_0c04,
  TDX_INVALID_METADATA_LIST_HEADER: 0xc000_0c05,
  TDX_REQUIRED_METADATA_FIELD_MISSING: 0xc000_0c06,
  TDX_METADATA_ELEMENT_SIZE_INCORRECT: 0xc000_0c07,
  TDX_METADATA_LAST_ELEMENT_INCORRECT: 0xc000_0c08,
  TDX_METADATA_FIELD_CURRENTLY_NOT_WRITABLE: 0xc000_0c09,
  TDX_METADATA_WR_MASK_NOT_VALID: 0xc000_0c0a,
  TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT: 0x0000_0c0b,
  TDX_METADATA_FIELD_SKIP: 0x0000_0c0c,
  TDX_SERVTD_ALREADY_BOUND_FOR_TYPE: 0xc000_0d00,
  TDX_SERVTD_TYPE_MISMATCH: 0xc000_0d01,
  TDX_SERVTD_ATTR_MISMATCH: 0xc000_0d02,
  TDX_SERVTD_INFO_HASH_MISMATCH: 0xc000_0d03,
  TDX_SERVTD_UUID_MISMATCH: 0xc000_0d04,
  TDX_SERVTD_NOT_BOUND: 0xc000_0d05,
  TDX_SERVTD_BOUND: 0xc000_0d06,
  TDX_TARGET_UUID_MISMATCH: 0xc000_0d07,
  TDX_TARGET_UUID_UPDATED: 0xc000_0d08,
  TDX_INVALID_MBMD: 0xc000_0e00,
  TDX_INCORRECT_MBMD_MAC: 0xc000_0e01,
  TDX_NOT_WRITE_BLOCKED: 0xc000_0e02,
  TDX_ALREADY_WRITE_BLOCKED: 0x0000_0e03,
  TDX_NOT_EXPORTED: 0xc000_0e04,
  TDX_MIGRATION_STREAM_STATE_INCORRECT: 0xc000_0e05,
  TDX_MAX_MIGS_NUM_EXCEEDED: 0xc000_0e06,
  TDX_EXPORTED_DIRTY_PAGES_REMAIN: 0xc000_0e07,
  TDX_MIGRATION_DECRYPTION_KEY_NOT_SET: 0xc000_0e08,
  TDX_TD_NOT_MIGRATABLE: 0xc000_0e09,
  TDX_PREVIOUS_EXPORT_CLEANUP_INCOMPLETE: 0xc000_0e0a,
  TDX_NUM_MIGS_HIGHER_THAN_CREATED: 0xc000_0e0b,
  TDX_IMPORT_MISMATCH: 0xc000_0e0c,
  TDX_MIGRATION_EPOCH_OVERFLOW: 0xc000_0e0d,
  TDX_MAX_EXPORTS_EXCEEDED: 0xc000_0e0e,
  TDX_INVALID_PAGE_MAC: 0xc000_0e0f,
  TDX_MIGRATED_IN_CURRENT_EPOCH: 0xc000_0e10,
  TDX_DISALLOWED_IMPORT_OVER_REMOVED: 0xc000_0e11,
  TDX_SOME_VCPUS_NOT_MIGRATED: 0xc000_0e12,
  TDX_ALL_VCPUS_IMPORTED: 0xc000_0e13,
  TDX_MIN_MIGS_NOT_CREATED: 0xc000_0e14,
  TDX_VCPU_ALREADY_EXPORTED: 0xc000_0e15,
  TDX_INVALID_MIGRATION_DECRYPTION_KEY: 0xc000_0e16,
  TDX_INVALID_CPUSVN: 0xc000_1000,
  TDX_INVALID_REPORTMACSTRUCT: 0xc000_1001,
  // TDG.VP.ENTER outcomes (class 0x11). Below PENDING_INTERRUPT the L2 VM ran and exited.
  TDX_L2_EXIT_HOST_ROUTED_ASYNC: 0x0000_1100,
  TDX_L2_EXIT_HOST_ROUTED_TDVMCALL: 0x0000_1101,
  TDX_L2_EXIT_PENDING_INTERRUPT: 0x0000_1102,
  /** L1 has a higher-priority interrupt pending: the L2 VM was never entered. */
  TDX_PENDING_INTERRUPT: 0x0000_1120,
  TDX_TD_EXIT_BEFORE_L2_ENTRY: 0x0000_1140,
  TDX_TD_EXIT_ON_L2_VM_EXIT: 0x0000_1141,
  TDX_TD_EXIT_ON_L2_TO_L1: 0x0000_1142,
  TDX_GLA_NOT_CANONICAL: 0xc000_1160,
} as const

export type TdxStatusName = keyof typeof TdxStatus
/** A completion status code: RAX[63:32] after a TDCALL. */
export type TdxStatus = (typeof TdxStatus)[TdxStatusName]

const statuses = nameIndex(TdxStatus)

/** The name of a status code (RAX[63:32]), or `undefined` for a code no table lists. */
export function tdxStatusName(code: number): TdxStatusName | undefined {
  return statuses.nameOf(code)
}

export function isTdxStatus(code: number): code is TdxStatus {
  return statuses.has(code)
}

/** The code of a status name (`TDX_OPERAND_BUSY`; the `TDX_` prefix may be left out). */
export function tdxStatusFromName(name: string): TdxStatus {
  const full = name.startsWith('TDX_') ? name : `TDX_${name}`
  const code = statuses.valueOf(full)
  if (code === undefined) {
    throw new VtlError('E_UNKNOWN_NAME', `unknown TDX status name '${name}'`, { field: 'status' })
  }
  return code as TdxStatus
}

/**
 * Operand ids that the TDX module puts in the details field (RAX[31:0]) to say which input was
 * wrong or busy: the x86 number of the register (abi.md §3.2), plus two internal resources.
 */
export const TdxOperandId = {
  RAX: 0,
  RCX: 1,
  RDX: 2,
  RBX: 3,
  RBP: 5,
  RSI: 6,
  RDI: 7,
  R8: 8,
  R9: 9,
  R10: 10,
  R11: 11,
  R12: 12,
  R13: 13,
  R14: 14,
  R15: 15,
  /** The secure EPT (Linux `TDX_OPERAND_ID_SEPT`). */
  SEPT: 0x92,
  /** The TD's TLB epoch (Linux `TDX_OPERAND_ID_TD_EPOCH`). */
  TD_EPOCH: 0xa9,
} as const

/** RAX[63:32]: the completion status code. */
export function tdxStatusCode(rax: bigint): number {
  checkU64(rax, 'rax')
  return Number(rax >> 32n)
}

/** RAX[31:0]: details, usually the operand id of the offending input (`TdxOperandId`). */
export function tdxStatusDetails(rax: bigint): number {
  checkU64(rax, 'rax')
  return Number(rax & 0xffff_ffffn)
}

/** RAX[47:40]: the class (0x01 operand, 0x02 busy, 0x0B EPT, 0x0C metadata, 0x11 L2 entry …). */
export function tdxStatusClass(rax: bigint): number {
  checkU64(rax, 'rax')
  return Number((rax >> 40n) & 0xffn)
}

const ERROR = 1n << 63n
const NON_RECOVERABLE = 1n << 62n
const FATAL = 1n << 61n

/** Bit 63: the call failed. */
export function isTdxError(rax: bigint): boolean {
  checkU64(rax, 'rax')
  return (rax & ERROR) !== 0n
}

/**
 * An error that may succeed if retried (bit 63 set, bits 62 and 61 clear): the `0x8…` and
 * `0x9…` codes such as TDX_OPERAND_BUSY. `0xC…` / `0xE…` errors will fail again.
 */
export function isTdxRecoverable(rax: bigint): boolean {
  checkU64(rax, 'rax')
  return (rax & ERROR) !== 0n && (rax & (NON_RECOVERABLE | FATAL)) === 0n
}

/**
 * The call did what was asked: bits 63–61 clear. Covers TDX_SUCCESS and the warnings (e.g.
 * TDX_PAGE_ALREADY_ACCEPTED) and the L2-exit codes of TDG.VP.ENTER; excludes the
 * non-recoverable TD/vCPU codes, which leave bit 63 clear but set bit 62.
 */
export function isTdxSuccess(rax: bigint): boolean {
  checkU64(rax, 'rax')
  return (rax & (ERROR | NON_RECOVERABLE | FATAL)) === 0n
}

/** A success whose code is not 0 (a warning or an informational L2-exit code). */
export function isTdxWarning(rax: bigint): boolean {
  return isTdxSuccess(rax) && rax >> 32n !== 0n
}

/** The RAX a TDCALL returns with `code` in bits 63:32 and `details` in 31:0. */
export function makeTdxStatus(code: number, details = 0): bigint {
  checkInt(code, 0, 0xffff_ffff, 'code')
  checkInt(details, 0, 0xffff_ffff, 'details')
  return (BigInt(code) << 32n) | BigInt(details)
}

/** `TDX_OPERAND_BUSY (0x8000020000000001)`, for messages and traces. */
export function formatTdxStatus(rax: bigint): string {
  return `${tdxStatusName(tdxStatusCode(rax)) ?? 'TDX_UNKNOWN'} (${hex64(rax)})`
}
