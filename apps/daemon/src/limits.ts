import type { ScenarioStep } from '@vtl/sim'

// The daemon's resource bounds, one place: what a client (or many) can make it hold. Each is
// configurable (DaemonOptions.limits / TdServiceOptions.limits); a refusal names the limit.

/** Per-listener connection bounds. */
export interface ListenerLimits {
  /** Open connections on the listener; more are closed at once (default: socket 512, TCP 128). */
  maxConnections: number
  /** A request's headers must arrive within this many ms, else the connection is closed. */
  headersTimeoutMs: number
}

export const SOCKET_LISTENER: ListenerLimits = { maxConnections: 512, headersTimeoutMs: 10_000 }
export const TCP_LISTENER: ListenerLimits = { maxConnections: 128, headersTimeoutMs: 10_000 }

/** What the TDs of one daemon may hold, and what one request may cost. */
export interface TdLimits {
  /** TDs at once (default 256). */
  maxTds: number
  /** VPs over all TDs (default 8192; each VP's engine state lives on the heap). */
  maxVps: number
  /** Guest RAM over all TDs, in bytes (default 16 TiB; the simulator holds written pages only). */
  maxMemory: bigint
  /**
   * Work one request may ask for, counted before it starts: each step costs its reps (a typed
   * memory call of 510 GPNs costs 510), and at least 1. Default 1024 (4 MiB of a typed memory
   * range): about a tenth of a second of the daemon's one thread on a small machine, so /healthz
   * and other clients keep answering.
   */
  maxRequestCost: number
}

export const TD_LIMITS: TdLimits = {
  maxTds: 256,
  maxVps: 8192,
  maxMemory: 1n << 44n,
  maxRequestCost: 1024,
}

/** A request's cost as `maxRequestCost` counts it. */
export function stepsCost(steps: readonly ScenarioStep[]): number {
  let cost = 0
  for (const step of steps) {
    cost += step.action.kind === 'hypercall' ? Math.max(1, step.action.call.repCount) : 1
  }
  return cost
}
