import {
  hvStatusFromName,
  hypercallCodeFromName,
  makeTdxStatus,
  tdcallLeafFromName,
  tdcallLeafName,
  tdxStatusFromName,
  VtlError,
} from '@vtl/core'

/** One armed one-shot failure: the (after+1)-th next call of `at` fails with `status`. */
export interface ArmedFault {
  /** A TDCALL name (`TDG.MEM.PAGE.ATTR.WR`) or a forwarded hypercall name (`EnableVpVtl`). */
  at: string
  status: string
  after: number
}

interface Armed {
  key: string
  remaining: number
  /** RAX for a TDCALL, the HvStatus for a hypercall. */
  value: bigint
}

/**
 * Seeded-free, scripted fault injection for the scenario `fault` action: one-shot failures keyed
 * by TDCALL leaf or hypercall code. The TD consults it before each TDCALL, plan operation and
 * forwarded hypercall; a fired fault replaces the call (nothing happens in the module or host).
 */
export class ArmedFaults {
  private armed: Armed[] = []
  /** Faults that fired, in order, for traces and tests. */
  readonly fired: { at: string; status: string }[] = []

  /** Validates the names (E_UNKNOWN_NAME) and arms the fault. */
  arm(fault: ArmedFault): void {
    const key = faultKey(fault.at)
    const value = key.startsWith('tdcall:')
      ? makeTdxStatus(tdxStatusFromName(fault.status))
      : BigInt(hvStatusFromName(fault.status))
    this.armed.push({ key, remaining: fault.after, value })
  }

  /** The injected result of this call, or undefined to let it run. */
  take(key: string): bigint | undefined {
    if (this.armed.length === 0) return undefined
    let hit: Armed | undefined
    for (const fault of this.armed) {
      if (fault.key !== key) continue
      // The oldest due fault fires; faults armed for the same call wait for the next one.
      if (fault.remaining === 0) hit ??= fault
      else fault.remaining--
    }
    if (hit === undefined) return undefined
    this.armed = this.armed.filter((f) => f !== hit)
    this.fired.push({ at: key, status: `0x${hit.value.toString(16)}` })
    return hit.value
  }

  get pending(): number {
    return this.armed.length
  }

  save(): unknown {
    return this.armed.map((f) => ({ ...f, value: `0x${f.value.toString(16)}` }))
  }

  restore(saved: unknown): void {
    const list = saved as { key: string; remaining: number; value: string }[]
    this.armed = list.map((f) => ({ key: f.key, remaining: f.remaining, value: BigInt(f.value) }))
  }
}

/** `tdcall:<leaf>` or `hypercall:<code>`; throws E_UNKNOWN_NAME for a name neither table has. */
export function faultKey(at: string): string {
  if (at.startsWith('TDG.')) return `tdcall:${tdcallLeafFromName(at)}`
  const code = hypercallCodeFromName(at)
  if (code === undefined) {
    throw new VtlError('E_UNKNOWN_NAME', `unknown TDCALL or hypercall '${at}'`, { field: 'at' })
  }
  return `hypercall:${code}`
}

export function tdcallKey(leaf: number): string {
  return `tdcall:${leaf}`
}

export function hypercallKey(code: number): string {
  return `hypercall:${code}`
}

export function leafLabel(leaf: number): string {
  return tdcallLeafName(leaf) ?? `leaf ${leaf}`
}
