import type { Trace } from '@vtl/sim'
import type { Check, ProbeResult } from '@vtl/tdx-hw'
import type { ServedTd } from './served-td.js'
import type { TdSpec } from './td-types.js'

// `--backend sim|hw`: which TDs vtld owns. `sim` is @vtl/sim's software TD; `hw` is the hardware
// path of @vtl/tdx-hw: core's engine bound to HwPlatform's ports (hypercalls over
// /dev/mshv_hvcall, VMCS writes and memory plans as TDCALLs through the mshv_vtl VTL fd, each VP
// entered with RETURN_TO_LOWER_VTL on its pinned thread).

export type BackendKind = 'sim' | 'hw'

export const BACKENDS: readonly BackendKind[] = ['sim', 'hw']

/** Opens a hardware-path TD for a create request; its guest hypercalls go to `trace`. */
export type HwTdOpener = (spec: TdSpec, trace: Trace) => Promise<ServedTd>

/** The backend new TDs are created on (the journal's own TDs are always `sim`). */
export type TdBackend = { kind: 'sim' } | { kind: 'hw'; open: HwTdOpener }

/** Why vtld cannot start on the hardware backend, as the probe answered (one line each). */
export function hwProbeRefusals(result: ProbeResult): string[] {
  const reasons: string[] = []
  const need = (label: string, check: Check): void => {
    if (!check.ok) reasons.push(`${label}: ${check.reason}`)
  }
  need('FFI', result.ffi)
  need('TDX guest', result.tdxGuest)
  need('mshv_vtl (VTL2 kernel)', result.mshvVtl)
  const hvcall = result.devices.find((device) => device.path === '/dev/mshv_hvcall')
  need('/dev/mshv_hvcall', hvcall?.usable ?? { ok: false, reason: 'not probed' })
  return reasons
}

/** Thrown when the chosen backend cannot serve: `reasons` are printed one per line, exit code 2. */
export class BackendRefusedError extends Error {
  readonly code = 'E_BACKEND_REFUSED'
  readonly reasons: readonly string[]

  constructor(backend: BackendKind, reasons: readonly string[]) {
    super(`backend ${backend} refused:\n${reasons.map((r) => `  ${r}`).join('\n')}`)
    this.name = 'BackendRefusedError'
    this.reasons = reasons
  }
}

/**
 * `HwTd` (`@vtl/tdx-hw/testing`, loaded on demand) for a create request: HwPlatform opened on a
 * `SimKernel`, whose TDG.VP.ENTER runs the scripted guest of the step routes.
 */
export async function openHwTd(spec: TdSpec, trace: Trace): Promise<ServedTd> {
  const [{ HwTd }, { servedHw }] = await Promise.all([
    import('@vtl/tdx-hw/testing'),
    import('./served-td.js'),
  ])
  const td = await HwTd.create({
    vps: spec.vps,
    memory: spec.memory,
    gpaWidth: spec.gpaWidth,
    mbecCapable: spec.mbec,
    ...(spec.startedVps === undefined ? {} : { startedVps: spec.startedVps }),
    trace,
  })
  return servedHw(td, trace)
}

/**
 * The backend vtld serves on this host. `sim` always can; `hw` runs the probe (loaded on demand:
 * its FFI is never needed for `sim`) and refuses with its reasons where it fails; where it
 * passes, new TDs are opened by `open` (default `openHwTd`).
 */
export async function checkBackend(
  backend: BackendKind,
  probe?: () => ProbeResult | Promise<ProbeResult>,
  open: HwTdOpener = openHwTd
): Promise<TdBackend> {
  if (backend === 'sim') return { kind: 'sim' }
  const result = await (probe ?? (await import('@vtl/tdx-hw')).probe)()
  const reasons = hwProbeRefusals(result)
  if (reasons.length > 0) throw new BackendRefusedError(backend, reasons)
  return { kind: 'hw', open }
}
