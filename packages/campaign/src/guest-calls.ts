import {
  HV_PARTITION_ID_SELF,
  HV_VP_INDEX_SELF,
  HypercallCode,
  encodeEnablePartitionVtl,
  encodeEnableVpVtl,
  encodeModifySparseGpaPageHostVisibility,
  encodeModifyVtlProtectionMask,
  encodeStartVirtualProcessor,
  decodeEnablePartitionVtlFlags,
  type InitialVpContextX64,
} from '@vtl/core'
import { defaultVpContext, type GuestAction, type RawHypercall } from '@vtl/sim'

// The hypercalls of the canonical boot and protection sequences (vsm-on-tdx.md §4.6), as the raw
// bytes a guest puts in its input page: what the simulator's guests and vtld's route both take.

/** A raw hypercall (rep calls: `repCount` elements). */
export function raw(code: number, input: Uint8Array, repCount = 0): RawHypercall {
  return { kind: 'raw', code, input, repStart: 0, repCount, varHeaderSize: 0, fast: false }
}

export function hypercall(call: RawHypercall): GuestAction {
  return { kind: 'hypercall', call }
}

/** A context with a recognisable RIP (the flat long-mode context TDX accepts otherwise). */
export function contextAt(rip: bigint, rsp = 0n): InitialVpContextX64 {
  return { ...defaultVpContext(), rip, rsp }
}

/** `flags`: the raw `EnablePartitionVtlFlagBits` (MBEC = 1). */
export function enablePartitionVtl(flags = 0): RawHypercall {
  const input = encodeEnablePartitionVtl({
    partitionId: HV_PARTITION_ID_SELF,
    targetVtl: 1,
    flags: decodeEnablePartitionVtlFlags(flags),
  })
  return raw(HypercallCode.EnablePartitionVtl, input)
}

export function enableVpVtl(vpIndex: number, context: InitialVpContextX64): RawHypercall {
  const input = encodeEnableVpVtl({
    partitionId: HV_PARTITION_ID_SELF,
    vpIndex,
    targetVtl: 1,
    context,
  })
  return raw(HypercallCode.EnableVpVtl, input)
}

export const enableSelf = (context: InitialVpContextX64): RawHypercall =>
  enableVpVtl(HV_VP_INDEX_SELF, context)

export function startVirtualProcessor(
  vpIndex: number,
  targetVtl: 0 | 1,
  context: InitialVpContextX64
): RawHypercall {
  const input = encodeStartVirtualProcessor({
    partitionId: HV_PARTITION_ID_SELF,
    vpIndex,
    targetVtl,
    context,
  })
  return raw(HypercallCode.StartVirtualProcessor, input)
}

/** The caller's VTL protects `gpns` of the VTLs below it with `mapFlags` (`HvMapGpaFlags`). */
export function modifyVtlProtectionMask(mapFlags: number, gpns: readonly bigint[]): RawHypercall {
  const input = encodeModifyVtlProtectionMask(
    { partitionId: HV_PARTITION_ID_SELF, mapFlags, targetVtl: 0 },
    gpns
  )
  return raw(HypercallCode.ModifyVtlProtectionMask, input, gpns.length)
}

/** `hostVisibility`: 0 private, 3 shared read-write (`HostVisibility`). */
export function modifyHostVisibility(
  hostVisibility: number,
  gpns: readonly bigint[]
): RawHypercall {
  const input = encodeModifySparseGpaPageHostVisibility(
    { partitionId: HV_PARTITION_ID_SELF, hostVisibility },
    gpns
  )
  return raw(HypercallCode.ModifySparseGpaPageHostVisibility, input, gpns.length)
}

/** A contiguous run of `count` GPNs from `first`. */
export function gpnRange(first: number, count: number): bigint[] {
  return Array.from({ length: count }, (_, i) => BigInt(first + i))
}
