/**
 * Both directions over a `{ Name: number }` table (statuses, call codes, leaves, exit reasons).
 * Name lookups take own properties only, so `toString` and friends are never names. Where two
 * names share a value, the later one names it.
 */
export interface NameIndex<N extends string> {
  nameOf(value: number): N | undefined
  has(value: number): boolean
  valueOf(name: string): number | undefined
}

export function nameIndex<N extends string>(table: Readonly<Record<N, number>>): NameIndex<N> {
  const names = Object.keys(table) as N[]
  const byValue = new Map<number, N>(names.map((name) => [table[name], name]))
  return {
    nameOf: (value) => byValue.get(value),
    has: (value) => byValue.has(value),
    valueOf: (name) => (Object.hasOwn(table, name) ? table[name as N] : undefined),
  }
}
