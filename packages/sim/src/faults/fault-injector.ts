import {
  VtlError,
  encodeHypercallResult,
  decodeHypercallControl,
  hvStatusFromName,
  hypercallCodeFromName,
  hypercallName,
  makeTdxStatus,
  tdcallLeafFromName,
  tdcallLeafName,
  tdxStatusFromName,
  tdxStatusName,
  hvStatusName,
  type HypervisorCallResult,
  type HypervisorPort,
  type TdcallInput,
  type TdcallOutput,
  TdcallLeaf,
} from '@vtl/core'
import { createRandom, type Random } from '../random.js'
import type { PreparedVpWr, TdcallPort, VpWrPort } from '../tdx-module/types.js'

const TDG_VP_WR = TdcallLeaf['TDG.VP.WR']

/** A one-shot failure: the (after + 1)-th next call of `at` fails with `status`. */
export interface ArmOptions {
  /** A TDCALL dotted name (`TDG.MEM.PAGE.ATTR.WR`) or a forwarded hypercall name (`EnableVpVtl`). */
  at: string
  /** A TDX completion status name for a TDCALL, an HvStatus name for a hypercall. */
  status: string
  /** Matching calls to let through first (default 0: the very next one fails). */
  after?: number
}

/** Failures at random: each eligible call fails with probability `rate`. */
export interface RandomFaultOptions {
  /** 0..1. */
  rate: number
  /** Statuses a failed TDCALL gets, picked uniformly (empty: TDCALLs never fail). */
  tdcallStatuses: readonly string[]
  /** Statuses a failed hypercall gets (empty: hypercalls never fail). */
  hypercallStatuses: readonly string[]
  /** Only these TDCALL leaves are eligible (default: all). */
  leaves?: readonly string[]
  /** Only these hypercalls are eligible (default: all). */
  calls?: readonly string[]
}

/** Snapshot of a `FaultInjector` (armed faults, random plan, stream positions, log). */
export interface FaultInjectorJson {
  version: 1
  seed: number
  armed: { at: string; status: string; remaining: number }[]
  random?: RandomFaultOptions
  streams: { tdcall: number[]; hypercall: number[] }
  fired: FiredFault[]
}

export interface FiredFault {
  /** 0, 1, 2 … */
  seq: number
  kind: 'tdcall' | 'hypercall'
  /** The leaf or hypercall name. */
  at: string
  status: string
  /** The VP of a TDCALL. */
  vp?: number
  source: 'armed' | 'random'
}

interface Armed {
  kind: 'tdcall' | 'hypercall'
  /** Leaf number or hypercall code. */
  id: number
  at: string
  code: number
  status: string
  remaining: number
}

interface RandomPlan {
  options: RandomFaultOptions
  rate: number
  tdcall: { code: number; name: string }[]
  hypercall: { code: number; name: string }[]
  leaves: Set<number> | undefined
  calls: Set<number> | undefined
}

function resolveAt(at: string): { kind: 'tdcall' | 'hypercall'; id: number } {
  if (typeof at === 'string' && at.startsWith('TDG')) {
    try {
      return { kind: 'tdcall', id: tdcallLeafFromName(at) }
    } catch {
      // fall through to the error below
    }
  } else if (typeof at === 'string') {
    const code = hypercallCodeFromName(at)
    if (code !== undefined) return { kind: 'hypercall', id: code }
  }
  throw new VtlError('E_UNKNOWN_NAME', `unknown TDCALL leaf or hypercall name '${at}'`, {
    field: 'at',
  })
}

function resolveStatus(
  kind: 'tdcall' | 'hypercall',
  status: string
): { code: number; name: string } {
  try {
    if (kind === 'tdcall') {
      const code = tdxStatusFromName(status)
      return { code, name: tdxStatusName(code) ?? status }
    }
    const code = hvStatusFromName(status)
    return { code, name: hvStatusName(code) ?? status }
  } catch {
    throw new VtlError(
      'E_UNKNOWN_NAME',
      `unknown ${kind === 'tdcall' ? 'TDX completion status' : 'HvStatus'} name '${status}'`,
      { field: 'status' }
    )
  }
}

/**
 * Seeded fault injection at the TDCALL and forwarded-hypercall boundaries. Wrap the module and
 * the hypervisor; an injected failure never reaches them, so it changes no state: the caller gets
 * RAX = the status (details 0, other registers 0) or a result word with the status and 0 reps.
 */
export class FaultInjector {
  readonly seed: number
  readonly fired: FiredFault[] = []
  /** Called for each injected failure (e.g. to put it in the trace). */
  onFire: ((fault: FiredFault) => void) | undefined
  private armedFaults: Armed[] = []
  private randomPlan: RandomPlan | undefined
  private tdcallRandom: Random
  private hypercallRandom: Random

  constructor(seed = 0) {
    this.seed = seed
    const root = createRandom(seed)
    this.tdcallRandom = root.fork('tdcall')
    this.hypercallRandom = root.fork('hypercall')
  }

  /** Arms a one-shot failure; several may be armed at once, each counts on its own. */
  arm(options: ArmOptions): void {
    const { kind, id } = resolveAt(options.at)
    const { code, name } = resolveStatus(kind, options.status)
    const after = options.after ?? 0
    if (!Number.isSafeInteger(after) || after < 0) {
      throw new VtlError('E_FIELD_RANGE', `after must be a non-negative integer, got ${after}`, {
        field: 'after',
      })
    }
    const at =
      kind === 'tdcall' ? (tdcallLeafName(id) ?? options.at) : (hypercallName(id) ?? options.at)
    this.armedFaults.push({ kind, id, at, code, status: name, remaining: after })
  }

  /** Replaces the random-failure plan (`rate: 0` turns it off). */
  random(options: RandomFaultOptions): void {
    if (!(options.rate >= 0 && options.rate <= 1)) {
      throw new VtlError('E_FIELD_RANGE', `rate must be within 0..1, got ${options.rate}`, {
        field: 'rate',
      })
    }
    const leaves =
      options.leaves === undefined
        ? undefined
        : new Set(
            options.leaves.map((l) => {
              const r = resolveAt(l)
              if (r.kind !== 'tdcall') {
                throw new VtlError('E_UNKNOWN_NAME', `'${l}' is not a TDCALL leaf`, { field: 'at' })
              }
              return r.id
            })
          )
    const calls =
      options.calls === undefined
        ? undefined
        : new Set(
            options.calls.map((c) => {
              const r = resolveAt(c)
              if (r.kind !== 'hypercall') {
                throw new VtlError('E_UNKNOWN_NAME', `'${c}' is not a hypercall`, { field: 'at' })
              }
              return r.id
            })
          )
    this.randomPlan = {
      options: {
        rate: options.rate,
        tdcallStatuses: [...options.tdcallStatuses],
        hypercallStatuses: [...options.hypercallStatuses],
        ...(options.leaves === undefined ? {} : { leaves: [...options.leaves] }),
        ...(options.calls === undefined ? {} : { calls: [...options.calls] }),
      },
      rate: options.rate,
      tdcall: options.tdcallStatuses.map((s) => resolveStatus('tdcall', s)),
      hypercall: options.hypercallStatuses.map((s) => resolveStatus('hypercall', s)),
      leaves,
      calls,
    }
  }

  /** Removes armed one-shots and the random plan (the `fired` log stays). */
  reset(): void {
    this.armedFaults = []
    this.randomPlan = undefined
  }

  /** Armed one-shots not yet fired. */
  get pending(): readonly Readonly<Pick<Armed, 'at' | 'status' | 'remaining'>>[] {
    return this.armedFaults.map(({ at, status, remaining }) => ({ at, status, remaining }))
  }

  private fire(fault: Omit<FiredFault, 'seq'>): void {
    const record: FiredFault = { seq: this.fired.length, ...fault }
    this.fired.push(record)
    this.onFire?.(record)
  }

  /** Consumes an armed fault matching (kind, id), if one is due; returns its status code. */
  private takeArmed(kind: 'tdcall' | 'hypercall', id: number): Armed | undefined {
    let due: Armed | undefined
    for (const a of this.armedFaults) {
      if (a.kind !== kind || a.id !== id) continue
      if (a.remaining === 0) due ??= a
      else a.remaining--
    }
    if (due !== undefined) this.armedFaults.splice(this.armedFaults.indexOf(due), 1)
    return due
  }

  /**
   * The injected RAX for a TDCALL of `leaf` on `vp`, or undefined to let it through. Call once
   * per TDCALL (it counts calls); the wrappers do this for you.
   */
  tdcallFault(vp: number, leaf: number): bigint | undefined {
    // Nothing armed and no random plan (the common case): nothing to count or draw.
    if (this.armedFaults.length === 0 && this.randomPlan === undefined) return undefined
    const at = tdcallLeafName(leaf) ?? `leaf ${leaf}`
    const armed = this.takeArmed('tdcall', leaf)
    if (armed !== undefined) {
      this.fire({ kind: 'tdcall', at, status: armed.status, vp, source: 'armed' })
      return makeTdxStatus(armed.code)
    }
    const plan = this.randomPlan
    if (plan === undefined || plan.tdcall.length === 0 || plan.rate === 0) return undefined
    if (plan.leaves !== undefined && !plan.leaves.has(leaf)) return undefined
    if (this.tdcallRandom.next() >= plan.rate) return undefined
    const pick = this.tdcallRandom.pick(plan.tdcall)
    this.fire({ kind: 'tdcall', at, status: pick.name, vp, source: 'random' })
    return makeTdxStatus(pick.code)
  }

  /** The injected result word for a hypercall with call code `code`, or undefined. */
  hypercallFault(code: number): bigint | undefined {
    if (this.armedFaults.length === 0 && this.randomPlan === undefined) return undefined
    const at = hypercallName(code) ?? `code 0x${code.toString(16)}`
    const armed = this.takeArmed('hypercall', code)
    if (armed !== undefined) {
      this.fire({ kind: 'hypercall', at, status: armed.status, source: 'armed' })
      return encodeHypercallResult({ status: armed.code, repsCompleted: 0 })
    }
    const plan = this.randomPlan
    if (plan === undefined || plan.hypercall.length === 0 || plan.rate === 0) return undefined
    if (plan.calls !== undefined && !plan.calls.has(code)) return undefined
    if (this.hypercallRandom.next() >= plan.rate) return undefined
    const pick = this.hypercallRandom.pick(plan.hypercall)
    this.fire({ kind: 'hypercall', at, status: pick.name, source: 'random' })
    return encodeHypercallResult({ status: pick.code, repsCompleted: 0 })
  }

  toJSON(): FaultInjectorJson {
    const json: FaultInjectorJson = {
      version: 1,
      seed: this.seed,
      armed: this.armedFaults.map(({ at, status, remaining }) => ({ at, status, remaining })),
      streams: { tdcall: this.tdcallRandom.state(), hypercall: this.hypercallRandom.state() },
      fired: this.fired.map((f) => ({ ...f })),
    }
    if (this.randomPlan !== undefined) json.random = this.randomPlan.options
    return json
  }

  /** Rebuilds an injector that fails exactly the calls the saved one would have failed next. */
  static fromJSON(json: FaultInjectorJson): FaultInjector {
    const faults = new FaultInjector(json.seed)
    for (const a of json.armed) faults.arm({ at: a.at, status: a.status, after: a.remaining })
    if (json.random !== undefined) faults.random(json.random)
    faults.tdcallRandom = createRandom(faults.tdcallRandom.seed, json.streams.tdcall)
    faults.hypercallRandom = createRandom(faults.hypercallRandom.seed, json.streams.hypercall)
    faults.fired.push(...json.fired.map((f) => ({ ...f })))
    return faults
  }

  /**
   * A TDCALL port with injection in front of `port.tdcall` (and of `port.vpWrStatus`, when the
   * port has it): the L1 VMM's TDCALLs go through it, while the module itself stays one object
   * for queries and host-side calls.
   */
  wrapTdcall(port: VpWrPort): {
    readonly tdcall: (vp: number, input: TdcallInput) => TdcallOutput
    readonly vpWrStatus: VpWrPort['vpWrStatus']
  }
  wrapTdcall(port: TdcallPort): {
    readonly tdcall: (vp: number, input: TdcallInput) => TdcallOutput
  }
  wrapTdcall(port: TdcallPort & Partial<VpWrPort>): {
    readonly tdcall: (vp: number, input: TdcallInput) => TdcallOutput
    readonly vpWrStatus?: VpWrPort['vpWrStatus']
  } {
    const tdcall = (vp: number, input: TdcallInput): TdcallOutput => {
      const rax = this.tdcallFault(vp, input.leaf)
      if (rax === undefined) return port.tdcall(vp, input)
      return { rax, rcx: 0n, rdx: 0n, r8: 0n, r9: 0n, r10: 0n, r11: 0n }
    }
    if (port.vpWrStatus === undefined) return { tdcall }
    const portVpWr = port.vpWrStatus.bind(port)
    // TDG.VP.WR answering RAX alone: the same injection point as `tdcall`'s.
    const vpWrStatus = (vp: number, field: PreparedVpWr, value: bigint): bigint =>
      this.tdcallFault(vp, TDG_VP_WR) ?? portVpWr(vp, field, value)
    return { tdcall, vpWrStatus }
  }

  /** The same object with injection in front of `hypercall`. */
  wrapHypervisor<T extends HypervisorPort>(hv: T): T {
    const hypercall = (control: bigint, input: Uint8Array): HypervisorCallResult => {
      // Nothing armed and no random plan: no control word to decode.
      if (this.armedFaults.length === 0 && this.randomPlan === undefined) {
        return hv.hypercall(control, input)
      }
      const result = this.hypercallFault(decodeHypercallControl(control).code)
      return result === undefined ? hv.hypercall(control, input) : { result }
    }
    return intercept(hv, 'hypercall', hypercall)
  }
}

function intercept<T extends object>(target: T, key: string, replacement: unknown): T {
  return new Proxy(target, {
    get(t, prop) {
      if (prop === key) return replacement
      const value: unknown = Reflect.get(t, prop, t)
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value
    },
    set(t, prop, value) {
      return Reflect.set(t, prop, value, t)
    },
  })
}
