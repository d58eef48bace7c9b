import { checkInt, checkReserved, checkU64, checkUBits } from './u64.js'

const GPN_MASK = (1n << 40n) - 1n

/**
 * One GLA range for TDG.VP.INVGLA (RDX when `list` is clear, or an entry of the list):
 * bits 11:0 = how many pages follow the first, bits 63:12 = the first page's linear address.
 */
export interface TdxGlaEntry {
  /** Linear page number (GLA >> 12), 52 bits. */
  baseGlaPage: bigint
  /** 0..4095: the range is `lastIndex + 1` pages. */
  lastIndex: number
}

export function encodeTdxGlaEntry(entry: TdxGlaEntry): bigint {
  checkInt(entry.lastIndex, 0, 0xfff, 'lastIndex')
  checkUBits(entry.baseGlaPage, 52, 'baseGlaPage')
  return (entry.baseGlaPage << 12n) | BigInt(entry.lastIndex)
}

export function decodeTdxGlaEntry(rdx: bigint): TdxGlaEntry {
  checkU64(rdx, 'TdxGlaEntry')
  return { baseGlaPage: rdx >> 12n, lastIndex: Number(rdx & 0xfffn) }
}

/**
 * `TdxGlaListInfo`: TDG.VP.INVGLA RDX when `list` is set: first entry to process [8:0], GPA page
 * of the 4 KiB list [51:12], number of entries [61:52]; 11:9 and 63:62 reserved.
 */
export interface TdxGlaListInfo {
  firstEntry: number
  listGpn: bigint
  numEntries: number
}

const LIST_RESERVED = (7n << 9n) | (3n << 62n)

export function encodeTdxGlaListInfo(info: TdxGlaListInfo): bigint {
  checkInt(info.firstEntry, 0, 0x1ff, 'firstEntry')
  checkInt(info.numEntries, 0, 0x3ff, 'numEntries')
  checkUBits(info.listGpn, 40, 'listGpn')
  return BigInt(info.firstEntry) | (info.listGpn << 12n) | (BigInt(info.numEntries) << 52n)
}

export function decodeTdxGlaListInfo(rdx: bigint): TdxGlaListInfo {
  checkU64(rdx, 'TdxGlaListInfo')
  checkReserved(rdx, LIST_RESERVED, 'TdxGlaListInfo')
  return {
    firstEntry: Number(rdx & 0x1ffn),
    listGpn: (rdx >> 12n) & GPN_MASK,
    numEntries: Number((rdx >> 52n) & 0x3ffn),
  }
}
