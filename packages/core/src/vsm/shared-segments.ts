import type { SegmentRegister, TableRegister } from '../hv/segment-register.js'

/**
 * Frozen segment and table registers shared by every bank that holds the same value. A booted
 * 1024-VP TD holds 20,000 of them, nearly all alike (the flat segments of one boot context), and
 * banks replace registers whole, never change one in place. The tables are bounded: past the
 * bound a value is kept as given.
 */
const LIMIT = 4096

let segmentCount = 0
/** base → limit → selector · 2^16 + attributes → the shared segment. */
const segments = new Map<bigint, Map<number, Map<number, SegmentRegister>>>()

let tableCount = 0
/** base → limit → the shared table register. */
const tables = new Map<bigint, Map<number, TableRegister>>()

/** The shared segment equal to `segment` (or `segment` itself once the table is full). */
export function sharedSegment(segment: SegmentRegister): SegmentRegister {
  const { base, limit, selector, attributes } = segment
  let byLimit = segments.get(base)
  let byRest = byLimit?.get(limit)
  const key = selector * 0x1_0000 + attributes
  const shared = byRest?.get(key)
  if (shared !== undefined) return shared
  if (segmentCount === LIMIT) return segment
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

/** The shared table register equal to `table` (or `table` itself once the table is full). */
export function sharedTable(table: TableRegister): TableRegister {
  const { base, limit } = table
  let byLimit = tables.get(base)
  const shared = byLimit?.get(limit)
  if (shared !== undefined) return shared
  if (tableCount === LIMIT) return table
  if (byLimit === undefined) {
    byLimit = new Map()
    tables.set(base, byLimit)
  }
  const made = Object.freeze({ limit, base })
  byLimit.set(limit, made)
  tableCount++
  return made
}
