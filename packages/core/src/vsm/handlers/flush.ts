import { HypercallCode } from '../../hv/hypercall-code.js'
import { HvStatus } from '../../hv/status.js'
import type { VsmEngine } from '../engine.js'
import { waitForTlbLocks } from '../tlb-lock-wait.js'
import { readVpSet } from './vp-set.js'

/** `HvFlushFlags` bits. */
export const HvFlushFlags = {
  AllProcessors: 1n << 0n,
  AllVirtualAddressSpaces: 1n << 1n,
  NonGlobalMappingsOnly: 1n << 2n,
  UseExtendedRangeFormat: 1n << 3n,
} as const

/** Fixed input of the non-Ex calls: address_space u64, flags u64, processor_mask u64. */
export const FLUSH_INPUT_SIZE = 24
/** Fixed input of the Ex calls: address_space, flags, then the HvVpSet's format and bank mask. */
export const FLUSH_EX_INPUT_SIZE = 32

function isEx(code: number): boolean {
  return (
    code === HypercallCode.FlushVirtualAddressSpaceEx ||
    code === HypercallCode.FlushVirtualAddressListEx
  )
}

function isList(code: number): boolean {
  return (
    code === HypercallCode.FlushVirtualAddressList ||
    code === HypercallCode.FlushVirtualAddressListEx
  )
}

/**
 * HvCallFlushVirtualAddressSpace/List(Ex) (§13.10, §13.17), to the level of their status rules
 * (`header` is the fixed input plus the variable header): the Ex forms' processor set (sparse
 * format only, one bank word per mask bit) and `hcvm_validate_flush_inputs` (flags other than
 * all_processors, all_virtual_address_spaces, non_global_mappings_only and, for the List forms,
 * use_extended_range_format; an empty set without all_processors) → InvalidParameter. Then the
 * TLB-lock rule (§13.15): the flush succeeds and the caller halts before it next enters its own
 * VTL until every other VP that holds that VTL's TLB lock now has released it (a VTL0 flush
 * blocks at once; a VTL1 flush never waits on VTL0 locks). The flush itself needs no state: the
 * engine keeps no TLB.
 */
export function flushVirtualAddress(
  engine: VsmEngine,
  callerVp: number,
  code: number,
  header: Uint8Array
): HvStatus {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength)
  let empty: boolean
  let beyond: boolean
  if (isEx(code)) {
    const vps = readVpSet(view, 16)
    if (vps === undefined) return HvStatus.InvalidParameter
    empty = vps.length === 0
    beyond = vps.some((vp) => vp >= engine.vpCount)
  } else {
    // Mask tests rather than a VP list: this is the cheapest hypercall there is and serves as the
    // dispatch baseline.
    const mask = view.getBigUint64(16, true)
    empty = mask === 0n
    beyond = engine.vpCount < 64 && mask >> BigInt(engine.vpCount) !== 0n
  }
  const valid = isList(code) ? 0xf : 0x7
  if (((header[8] ?? 0) & ~valid) !== 0 || !allZero(header, 9, 16)) return HvStatus.InvalidParameter
  const all = ((header[8] ?? 0) & 1) !== 0
  if (empty && !all) return HvStatus.InvalidParameter
  // Deviation (§13.17): a processor bit for a VP that does not exist crashes OpenHCL; we refuse it.
  if (beyond && !all) return HvStatus.InvalidParameter
  // The flush completes; the caller then waits for the locks of its own VTL (§13.15).
  waitForTlbLocks(engine, callerVp, engine.vp(callerVp).exitVtl)
  return HvStatus.Success
}

function allZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false
  return true
}
