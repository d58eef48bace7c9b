import type { PageLevel } from '@vtl/core'

const PAGES: readonly number[] = [1, 512, 262144]

/** Number of aligned mappings, each of the largest level ≤ `maxLevel`, that cover `[s, e)`. */
export function alignedChunkCount(s: number, e: number, maxLevel: PageLevel): number {
  if (s >= e) return 0
  if (maxLevel === 0) return e - s
  const size = PAGES[maxLevel] ?? 1
  const a = Math.ceil(s / size) * size
  const b = Math.floor(e / size) * size
  const lower = (maxLevel - 1) as PageLevel
  if (a >= b) return alignedChunkCount(s, e, lower)
  return (b - a) / size + alignedChunkCount(s, a, lower) + alignedChunkCount(b, e, lower)
}

/**
 * Calls `fn(gpn, level)` for each aligned mapping covering `[s, e)`, in ascending order.
 * Returning `false` from `fn` stops the walk; the result says whether it ran to the end.
 */
export function forEachAlignedChunk(
  s: number,
  e: number,
  maxLevel: PageLevel,
  fn: (gpn: number, level: PageLevel) => unknown
): boolean {
  if (s >= e) return true
  if (maxLevel === 0) {
    for (let g = s; g < e; g++) if (fn(g, 0) === false) return false
    return true
  }
  const size = PAGES[maxLevel] ?? 1
  const a = Math.ceil(s / size) * size
  const b = Math.floor(e / size) * size
  const lower = (maxLevel - 1) as PageLevel
  if (a >= b) return forEachAlignedChunk(s, e, lower, fn)
  if (!forEachAlignedChunk(s, a, lower, fn)) return false
  for (let g = a; g < b; g += size) if (fn(g, maxLevel) === false) return false
  return forEachAlignedChunk(b, e, lower, fn)
}

/** Pages covered by one mapping at `level`. */
export function pagesAtLevel(level: PageLevel): number {
  return PAGES[level] ?? 1
}
