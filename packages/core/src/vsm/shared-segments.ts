import type { SegmentRegister, TableRegister } from '../hv/segment-register.js'

/**
 * Frozen segment and table registers shared by every bank that holds the same value. A booted
 * 1024-VP TD holds 20,000 of them, nearly all alike (the flat segments of one boot context), and
 * banks replace registers whole, never change one in place. The tables are process-wide and
 * bounded: a table that is full is emptied and starts again, so a guest that sends thousands of
 * distinct values cannot turn sharing off for every later TD. The objects already handed out stay
 * valid (they are frozen); only later equal values get new ones.
 */
export const SHARED_REGISTERS_KEPT = 4096

let segmentCount = 0
/** base → limit → selector · 2^16 + attributes → the shared segment. */
const segments = new Map<bigint, Map<number, Map<number, SegmentRegister>>>()

let tableCount = 0
/** base → limit → the shared table register. */
const tables = new Map<bigint, Map<number, TableRegister>>()

/** The shared segment equal to `segment`. */
export function sharedSegment(segment: SegmentRegister): SegmentRegister {
  const { base, limit, selector, attributes } = segment
  let byLimit = segments.get(base)
  let byRest = byLimit?.get(limit)
  const key = selector * 0x1_0000 + attributes
  const shared = byRest?.get(key)
  if (shared !== undefined) return shared
  if (segmentCount === SHARED_REGISTERS_KEPT) {
    segments.clear()
    segmentCount = 0
    byLimit = undefined
    byRest = undefined
  }
  if (byLimit === undefined) {
    byLimit = new Map()
    segments.set(base, byLimit)
  }
  if (byRest === undefined) {
    byRest = new Map()
    byLimit.set(limit, byRest)
  }
  const made = Object.freeze({ base, limit, selector, attributes })
  byRest.set(key, made)
  segmentCount++
  return made
}

/** The shared table register equal to `table`. */
export function sharedTable(table: TableRegister): TableRegister {
  const { base, limit } = table
  let byLimit = tables.get(base)
  const shared = byLimit?.get(limit)
  if (shared !== undefined) return shared
  if (tableCount === SHARED_REGISTERS_KEPT) {
    tables.clear()
    tableCount = 0
    byLimit = undefined
  }
  if (byLimit === undefined) {
    byLimit = new Map()
    tables.set(base, byLimit)
  }
  const made = Object.freeze({ limit, base })
  byLimit.set(limit, made)
  tableCount++
  return made
}
