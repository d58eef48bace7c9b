import type { PageLevel } from '@vtl/core'
import { forEachAlignedChunk, pagesAtLevel } from './aligned-chunks.js'
import { stepOp, type Plan, type PlanOp } from './plan.js'
import type { PlanSink } from './plan-sink.js'
import { TDX_OPERAND_BUSY, TDX_PAGE_SIZE_MISMATCH, tdxStatusCode } from './tdx-status.js'

export interface ExecuteOptions {
  /**
   * Extra attempts after TDX_OPERAND_BUSY. OpenHCL does not retry BUSY (vsm-on-tdx.md §13.4); we
   * do, a bounded number of times, because BUSY means another VP holds the entry for a moment.
   */
  busyRetries?: number
}

export interface ExecuteResult {
  ok: boolean
  /** Ops that succeeded, in order, at the level they finally succeeded at. */
  executed: PlanOp[]
  /** Every call made to the sink, failed attempts included. */
  attempts: number
  failure?: { op: PlanOp; status: bigint }
}

const DEFAULT_BUSY_RETRIES = 3

/**
 * Runs a plan through a sink. A mapping refused with TDX_PAGE_SIZE_MISMATCH is retried as 512
 * mappings of the next smaller level (OpenHCL goes 2 MiB → 4 KiB; we start at 1 GiB, so
 * 1 GiB → 2 MiB → 4 KiB). The first other failure stops the run; undoing is the caller's job.
 */
export function executePlan(
  plan: Plan,
  sink: PlanSink,
  options: ExecuteOptions = {}
): ExecuteResult {
  const busyRetries = options.busyRetries ?? DEFAULT_BUSY_RETRIES
  const result: ExecuteResult = { ok: true, executed: [], attempts: 0 }

  const run = (op: PlanOp): boolean => {
    let busy = 0
    for (;;) {
      result.attempts++
      const status = sink.execute(op)
      if (status === 0n) {
        result.executed.push(op)
        return true
      }
      const code = tdxStatusCode(status)
      if (code === TDX_OPERAND_BUSY && op.kind !== 'map-gpa' && busy < busyRetries) {
        busy++
        continue
      }
      if (code === TDX_PAGE_SIZE_MISMATCH && op.kind !== 'map-gpa' && op.level > 0) {
        const lower = (op.level - 1) as PageLevel
        const base = Number(op.gpn)
        const size = pagesAtLevel(op.level)
        return forEachAlignedChunk(base, base + size, lower, (gpn, level) =>
          run({ ...op, gpn: BigInt(gpn), level })
        )
      }
      // Anything else, PAGE_ALREADY_ACCEPTED included (OpenHCL panics on it): the hardware does
      // not match the map, so stop.
      result.ok = false
      result.failure = { op, status }
      return false
    }
  }

  for (const step of plan.steps) {
    if (step.kind === 'map-gpa') {
      if (!run(stepOp(step, step.start, 0))) return result
      continue
    }
    const done = forEachAlignedChunk(step.start, step.end, plan.maxLevel, (gpn, level) =>
      run(stepOp(step, gpn, level))
    )
    if (!done) return result
  }
  return result
}
