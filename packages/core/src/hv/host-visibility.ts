import { VtlError } from '../errors/vtl-error.js'
import { checkObject, checkU64, checkUint, expectAtLeast, viewOf } from './bytes.js'
import { GPN_SIZE, readGpnList, repElementCount, writeGpnList } from './gpn-list.js'

/**
 * Host visibility of a GPA page (`HostVisibilityType`, 2 bits: bit 0 host read, bit 1 host
 * write). Hardware CVMs support only Private and ReadWrite; ReadOnly (1) is InvalidParameter in
 * ModifySparseGpaPageHostVisibility (§13.9) — that check belongs to the handler.
 */
export const HostVisibility = {
  Private: 0,
  ReadOnly: 1,
  ReadWrite: 3,
} as const

export type HostVisibilityName = keyof typeof HostVisibility

/**
 * `ModifySparseGpaPageHostVisibility` header (16 B; abi.md §4.4): partition_id u64 @0,
 * host_visibility in bits 1:0 of the u32 @8, reserved u32 @12. The rep elements are u64 GPNs.
 * Bits 31:2 of the u32 @8 and the u32 @12 are reserved; hv1_hypercall reads only bits 1:0, so
 * they are preserved here and never checked.
 */
export interface ModifySparseGpaPageHostVisibilityHeader {
  partitionId: bigint
  /** 0..3, see `HostVisibility`. */
  hostVisibility: number
  /** Bits 31:2 of the u32 @8, in place (bits 1:0 clear). Optional when encoding. */
  reservedBits?: number
  /** The u32 @12. Optional when encoding. */
  reserved?: number
}

export const MODIFY_SPARSE_GPA_PAGE_HOST_VISIBILITY_HEADER_SIZE = 16

/** `QuerySparseGpaPageHostVisibility` header (8 B): partition_id u64. Elements: u64 GPNs. */
export interface QuerySparseGpaPageHostVisibilityHeader {
  partitionId: bigint
}

export const QUERY_SPARSE_GPA_PAGE_HOST_VISIBILITY_HEADER_SIZE = 8
/** The query's output: one `HostVisibilityType` byte per GPN. */
export const HOST_VISIBILITY_OUTPUT_ELEMENT_SIZE = 1

const MODIFY = 'ModifySparseGpaPageHostVisibility'
const QUERY = 'QuerySparseGpaPageHostVisibility'

function checkGpnArray(gpns: unknown, field: string): void {
  if (!Array.isArray(gpns)) {
    throw new VtlError('E_FIELD_RANGE', `${field} must be an array`, { field })
  }
}

export function encodeModifySparseGpaPageHostVisibility(
  header: ModifySparseGpaPageHostVisibilityHeader,
  gpns: readonly bigint[]
): Uint8Array {
  checkObject(header, MODIFY)
  checkU64(header.partitionId, MODIFY, 'partitionId')
  checkUint(header.hostVisibility, 2, MODIFY, 'hostVisibility')
  const reservedBits = header.reservedBits ?? 0
  checkUint(reservedBits, 32, MODIFY, 'reservedBits')
  if ((reservedBits & 3) !== 0) {
    throw new VtlError('E_FIELD_RANGE', 'reservedBits must leave bits 1:0 clear', {
      field: `${MODIFY}.reservedBits`,
    })
  }
  const reserved = header.reserved ?? 0
  checkUint(reserved, 32, MODIFY, 'reserved')
  checkGpnArray(gpns, `${MODIFY}.gpns`)
  const size = MODIFY_SPARSE_GPA_PAGE_HOST_VISIBILITY_HEADER_SIZE + gpns.length * GPN_SIZE
  const bytes = new Uint8Array(size)
  const view = viewOf(bytes)
  writeGpnList(view, MODIFY_SPARSE_GPA_PAGE_HOST_VISIBILITY_HEADER_SIZE, gpns)
  view.setBigUint64(0, header.partitionId, true)
  view.setUint32(8, (reservedBits | header.hostVisibility) >>> 0, true)
  view.setUint32(12, reserved, true)
  return bytes
}

/** Reads the header: the first 16 bytes of the input. */
export function decodeModifySparseGpaPageHostVisibilityHeader(
  bytes: Uint8Array
): Required<ModifySparseGpaPageHostVisibilityHeader> {
  expectAtLeast(bytes, MODIFY_SPARSE_GPA_PAGE_HOST_VISIBILITY_HEADER_SIZE, MODIFY)
  const view = viewOf(bytes)
  const word = view.getUint32(8, true)
  return {
    partitionId: view.getBigUint64(0, true),
    hostVisibility: word & 3,
    reservedBits: (word & ~3) >>> 0,
    reserved: view.getUint32(12, true),
  }
}

/** Header plus every GPN; the length must be 16 + 8·n. */
export function decodeModifySparseGpaPageHostVisibility(bytes: Uint8Array): {
  header: Required<ModifySparseGpaPageHostVisibilityHeader>
  gpns: bigint[]
} {
  const header = decodeModifySparseGpaPageHostVisibilityHeader(bytes)
  const size = MODIFY_SPARSE_GPA_PAGE_HOST_VISIBILITY_HEADER_SIZE
  const count = repElementCount(bytes, size, GPN_SIZE, MODIFY)
  return { header, gpns: readGpnList(bytes, size, count) }
}

export function encodeQuerySparseGpaPageHostVisibility(
  header: QuerySparseGpaPageHostVisibilityHeader,
  gpns: readonly bigint[]
): Uint8Array {
  checkObject(header, QUERY)
  checkU64(header.partitionId, QUERY, 'partitionId')
  checkGpnArray(gpns, `${QUERY}.gpns`)
  const size = QUERY_SPARSE_GPA_PAGE_HOST_VISIBILITY_HEADER_SIZE + gpns.length * GPN_SIZE
  const bytes = new Uint8Array(size)
  const view = viewOf(bytes)
  writeGpnList(view, QUERY_SPARSE_GPA_PAGE_HOST_VISIBILITY_HEADER_SIZE, gpns)
  view.setBigUint64(0, header.partitionId, true)
  return bytes
}

export function decodeQuerySparseGpaPageHostVisibilityHeader(
  bytes: Uint8Array
): QuerySparseGpaPageHostVisibilityHeader {
  expectAtLeast(bytes, QUERY_SPARSE_GPA_PAGE_HOST_VISIBILITY_HEADER_SIZE, QUERY)
  return { partitionId: viewOf(bytes).getBigUint64(0, true) }
}

/** Header plus every GPN; the length must be 8 + 8·n. */
export function decodeQuerySparseGpaPageHostVisibility(bytes: Uint8Array): {
  header: QuerySparseGpaPageHostVisibilityHeader
  gpns: bigint[]
} {
  const header = decodeQuerySparseGpaPageHostVisibilityHeader(bytes)
  const size = QUERY_SPARSE_GPA_PAGE_HOST_VISIBILITY_HEADER_SIZE
  const count = repElementCount(bytes, size, GPN_SIZE, QUERY)
  return { header, gpns: readGpnList(bytes, size, count) }
}

/** The query's output bytes: one visibility value (0..3) per GPN. */
export function encodeHostVisibilityOutput(values: readonly number[]): Uint8Array {
  checkGpnArray(values, `${QUERY}.output`)
  for (let i = 0; i < values.length; i++) checkUint(values[i] as number, 8, `${QUERY}.output[${i}]`)
  return Uint8Array.from(values)
}

/**
 * One value per byte. The byte is an open enum in hvdef; values other than 0 and 3 are passed
 * through so that a caller can see exactly what was written.
 */
export function decodeHostVisibilityOutput(bytes: Uint8Array): number[] {
  expectAtLeast(bytes, 0, `${QUERY}.output`)
  return Array.from(bytes)
}
