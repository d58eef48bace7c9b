import {
  GuestVsmState,
  HvRegisterName,
  VtlError,
  getVpRegister,
  hvStatusName,
  type GuestVtl,
} from '@vtl/core'
import { formatHex } from '@vtl/core/schemas'
import { svgRunToWireRun } from '@vtl/memory-map'
import { Trace, type ChromeTraceEvent } from '@vtl/sim'
import { ProblemError } from './problem.js'
import type { TdEntry } from './td-entry.js'
import type { PartitionConfigRead, RunWire, TdView } from './td-types.js'

// Read-only answers computed from a TD (pure); `TdService` runs them on the TD's queue and
// documents what they mean.

const VSM_STATE_NAMES: Readonly<Record<number, string>> = {
  [GuestVsmState.NotPlatformSupported]: 'NotPlatformSupported',
  [GuestVsmState.NotGuestEnabled]: 'NotGuestEnabled',
  [GuestVsmState.Enabled]: 'Enabled',
}

/** A TD as the API shows it. */
export function tdView(entry: TdEntry): TdView {
  const { meta } = entry
  return {
    id: meta.td,
    name: meta.name ?? null,
    backend: entry.td.backend,
    vps: meta.vps,
    memory: meta.memory,
    gpaWidth: meta.gpaWidth,
    mbec: meta.mbec,
    state: entry.failure === undefined ? 'running' : 'failed',
  }
}

/** The vectors set in an APIC's IRR (requested, not yet delivered), lowest first. */
function requestedVectors(irr: Uint32Array): number[] {
  const vectors: number[] = []
  irr.forEach((word, index) => {
    for (let bit = 0; bit < 32; bit++) if ((word >>> bit) & 1) vectors.push(index * 32 + bit)
  })
  return vectors
}

/** `TdService.status`'s answer. */
export function tdStatus(id: string, entry: TdEntry): unknown {
  const { engine } = entry.td
  const vps = []
  let partitionStatus: string | undefined
  for (let vp = 0; vp < entry.meta.vps; vp++) {
    const state = engine.vp(vp)
    const vtl: GuestVtl = state.exitVtl
    const vpStatus = getVpRegister(engine, vp, vtl, vtl, HvRegisterName.VsmVpStatus)
    if (partitionStatus === undefined) {
      const read = getVpRegister(engine, vp, vtl, vtl, HvRegisterName.VsmPartitionStatus)
      partitionStatus = formatHex(read.value)
    }
    vps.push({
      vp,
      activeVtl: vtl,
      vtl1Enabled: engine.shared.vtl1EnableCalled(vp),
      vsmVpStatus: formatHex(vpStatus.value),
      readStatus: hvStatusName(vpStatus.status) ?? formatHex(vpStatus.status),
      // Halted: a call to reissue, or waiting for other VPs' TLB locks before it re-enters (§13.15).
      blocked: entry.td.runnable(vp) === 'VpBlocked',
      pendingInterrupts: {
        vtl0: requestedVectors(state.vtls[0].apic.irr),
        vtl1: requestedVectors(state.vtls[1].apic.irr),
      },
    })
  }
  return {
    id,
    partition: {
      guestVsmState: VSM_STATE_NAMES[engine.guestVsmState] ?? String(engine.guestVsmState),
      vsmPartitionStatus: partitionStatus ?? '0x0',
    },
    vps,
  }
}

/** `TdService.partitionConfig`'s answer. */
export function partitionConfigRead(entry: TdEntry, vp: number): PartitionConfigRead {
  const { engine } = entry.td
  const vtl = engine.vp(vp).exitVtl
  const read = getVpRegister(engine, vp, vtl, vtl, HvRegisterName.VsmPartitionConfig)
  return {
    vp,
    vtl,
    value: formatHex(read.value),
    status: hvStatusName(read.status) ?? formatHex(read.status),
  }
}

/** `TdService.runs`'s answer. */
export function runsPage(
  entry: TdEntry,
  query: {
    start?: bigint | undefined
    size?: bigint | undefined
    cursor?: bigint | undefined
    limit: number
  }
): { runs: RunWire[]; next: string | null } {
  const start = query.start ?? 0n
  const end = start + (query.size ?? BigInt(entry.meta.memory) - start)
  let page
  try {
    page = entry.td.space.runs(
      { start, end },
      { limit: query.limit, ...(query.cursor === undefined ? {} : { cursor: query.cursor }) }
    )
  } catch (error) {
    if (!VtlError.isInstance(error)) throw error
    throw new ProblemError('E_BAD_RANGE', `${error.message} (${error.code})`)
  }
  return {
    runs: page.runs.map(svgRunToWireRun),
    next: page.next === undefined ? null : formatHex(page.next),
  }
}

/** `TdService.trace`'s answer. */
export function traceJson(
  entry: TdEntry,
  limit?: number
): { traceEvents: ChromeTraceEvent[]; displayTimeUnit: 'ns' } {
  const trace = entry.td.trace
  if (limit === undefined || limit >= trace.size) return trace.toChromeTrace()
  const json = trace.toJSON()
  return Trace.fromJSON({
    ...json,
    events: json.events.slice(json.events.length - limit),
  }).toChromeTrace()
}
