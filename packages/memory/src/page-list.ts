/** Sorted, merged page ranges (flat pairs) of a page list given in any order, with repeats. */
export function mergePages(pages: readonly number[]): number[] {
  if (pages.length === 1) return [pages[0] ?? 0, (pages[0] ?? 0) + 1]
  const sorted = Float64Array.from(pages).sort()
  const out: number[] = []
  for (const p of sorted) {
    const last = out.length - 1
    if (last > 0 && (out[last] ?? -1) >= p) {
      if ((out[last] ?? 0) === p) out[last] = p + 1
      continue
    }
    out.push(p, p + 1)
  }
  return out
}
