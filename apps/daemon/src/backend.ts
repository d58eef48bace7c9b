import type { Check, ProbeResult } from '@vtl/tdx-hw'

// `--backend sim|hw`: which TDs vtld owns. `sim` is @vtl/sim; `hw` would be the real partition
// through @vtl/tdx-hw on an OpenHCL paravisor kernel inside a TD.

export type BackendKind = 'sim' | 'hw'

export const BACKENDS: readonly BackendKind[] = ['sim', 'hw']

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

/** The hardware backend exists as @vtl/tdx-hw's HwPlatform/HwTd, but not behind vtld's routes. */
export const HW_NOT_WIRED =
  'the hardware probe passes, but vtld does not serve TDs on @vtl/tdx-hw yet (TdService drives ' +
  '@vtl/sim only); run with --backend sim'

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
 * Checks that the backend can serve on this host. `sim` always can; `hw` runs the probe (loaded on
 * demand: its FFI is never needed for `sim`) and refuses with its reasons — and, where the probe
 * passes, with what vtld has not wired yet rather than pretending.
 */
export async function checkBackend(
  backend: BackendKind,
  probe?: () => ProbeResult | Promise<ProbeResult>
): Promise<void> {
  if (backend === 'sim') return
  const result = await (probe ?? (await import('@vtl/tdx-hw')).probe)()
  const reasons = hwProbeRefusals(result)
  throw new BackendRefusedError(backend, reasons.length > 0 ? reasons : [HW_NOT_WIRED])
}
