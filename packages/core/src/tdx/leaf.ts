import { VtlError } from '../errors/vtl-error.js'
import { checkInt, checkReserved, checkU64 } from './u64.js'
import { nameIndex } from '../internal/name-index.js'

/**
 * TDCALL leaf numbers (RAX bits 15:0), under the TDX module's dotted names (abi.md §3.1,
 * vsm-on-tdx.md §6.2). Sources: intel/tdx-module 1.5 `tdcall_leaf_opcode_e` for 0–27, openvmm
 * `TdCallLeaf` and Linux `shared/tdx.h` for 27 (INVGLA), 29 and 30. Numbers 13–17, 19, 21 and 28
 * are left out: no source we could check names them.
 */
export const TdcallLeaf = {
  'TDG.VP.VMCALL': 0,
  'TDG.VP.INFO': 1,
  'TDG.MR.RTMR.EXTEND': 2,
  'TDG.VP.VEINFO.GET': 3,
  'TDG.MR.REPORT': 4,
  'TDG.VP.CPUIDVE.SET': 5,
  'TDG.MEM.PAGE.ACCEPT': 6,
  'TDG.VM.RD': 7,
  'TDG.VM.WR': 8,
  'TDG.VP.RD': 9,
  'TDG.VP.WR': 10,
  'TDG.SYS.RD': 11,
  'TDG.SYS.RDALL': 12,
  'TDG.SERVTD.RD': 18,
  'TDG.SERVTD.WR': 20,
  'TDG.MR.VERIFYREPORT': 22,
  'TDG.MEM.PAGE.ATTR.RD': 23,
  'TDG.MEM.PAGE.ATTR.WR': 24,
  'TDG.VP.ENTER': 25,
  'TDG.VP.INVEPT': 26,
  // The TDX 1.5.01 module source calls leaf 27 TDG.VP.INVVPID; the newer spec and openvmm call it
  // TDG.VP.INVGLA (same number, GLA-based operands). We follow openvmm; the old name still parses.
  'TDG.VP.INVGLA': 27,
  'TDG.MR.KEY.GET': 29,
  'TDG.MEM.PAGE.RELEASE': 30,
} as const

export type TdcallLeafName = keyof typeof TdcallLeaf
export type TdcallLeaf = (typeof TdcallLeaf)[TdcallLeafName]

/** Names that older sources use for a leaf that has a newer name here. */
const LEAF_ALIASES: Readonly<Record<string, TdcallLeafName>> = {
  'TDG.VP.INVVPID': 'TDG.VP.INVGLA',
}

const leaves = nameIndex(TdcallLeaf)

/** The dotted name of a leaf number, or `undefined` for a number no table lists. */
export function tdcallLeafName(leaf: number): TdcallLeafName | undefined {
  return leaves.nameOf(leaf)
}

export function isTdcallLeaf(leaf: number): leaf is TdcallLeaf {
  return leaves.has(leaf)
}

/**
 * The number of a leaf name. Accepts the dotted name (`TDG.MEM.PAGE.ATTR.WR`), the TDX module's C
 * spelling (`TDG_MEM_PAGE_ATTR_WR`, with or without `_LEAF`) and `TDG.VP.INVVPID`; throws
 * `E_UNKNOWN_NAME` otherwise.
 */
export function tdcallLeafFromName(name: string): TdcallLeaf {
  const dotted = name.replace(/_LEAF$/, '').replaceAll('_', '.')
  const canonical = Object.hasOwn(LEAF_ALIASES, dotted) ? LEAF_ALIASES[dotted] : dotted
  const leaf = canonical === undefined ? undefined : leaves.valueOf(canonical)
  if (leaf === undefined) {
    throw new VtlError('E_UNKNOWN_NAME', `unknown TDCALL leaf '${name}'`, { field: 'leaf' })
  }
  return leaf as TdcallLeaf
}

const RAX_RESERVED = ~0xff_ffffn & 0xffff_ffff_ffff_ffffn

/** TDCALL RAX input: leaf in bits 15:0, leaf version in 23:16, the rest reserved (0). */
export function encodeTdcallRax(leaf: number, version = 0): bigint {
  checkInt(leaf, 0, 0xffff, 'leaf')
  checkInt(version, 0, 0xff, 'version')
  return (BigInt(version) << 16n) | BigInt(leaf)
}

export function decodeTdcallRax(rax: bigint): { leaf: number; version: number } {
  checkU64(rax, 'rax')
  checkReserved(rax, RAX_RESERVED, 'rax')
  return { leaf: Number(rax & 0xffffn), version: Number((rax >> 16n) & 0xffn) }
}
