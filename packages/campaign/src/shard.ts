import { VtlError } from '@vtl/core'

/** One of `count` shards of a campaign (`--shard index/count`, index 1-based as in vitest). */
export interface Shard {
  index: number
  count: number
}

/** `--shard i/n` → `{ index: i, count: n }`; 1 ≤ i ≤ n. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim())
  const index = Number(match?.[1])
  const count = Number(match?.[2])
  if (
    match === null ||
    !Number.isSafeInteger(index) ||
    !Number.isSafeInteger(count) ||
    count < 1 ||
    index < 1 ||
    index > count
  ) {
    throw new VtlError('E_INVALID_VALUE', `--shard ${text}: expected i/n with 1 ≤ i ≤ n`, {
      field: '--shard',
    })
  }
  return { index, count }
}

/**
 * The shard that performs run index `run` (seed `seed + run`): the indexes are dealt out in turn,
 * so the shards of `--runs N` together perform exactly the runs 0…N−1 of the unsharded campaign,
 * and with a time budget every shard's share keeps growing until its budget ends.
 */
export function shardOfRun(run: number, count: number): number {
  return (run % count) + 1
}

/** The run indexes of `shard` below `runs` (unbounded with `runs` = Infinity), in order. */
export function* shardRuns(shard: Shard, runs: number): Generator<number, void> {
  for (let run = shard.index - 1; run < runs; run += shard.count) yield run
}

/** How many of the runs 0…runs−1 fall to `shard`. */
export function shardShare(shard: Shard, runs: number): number {
  return runs < shard.index ? 0 : Math.floor((runs - shard.index) / shard.count) + 1
}

/** `shard 2/4` (messages and progress). */
export function shardLabel(shard: Shard): string {
  return `shard ${shard.index}/${shard.count}`
}
