import {
  HV_PARTITION_ID_SELF,
  HypercallCode,
  HvStatus,
  VtlError,
  decodeHypercallControl,
  encodeHypercallResult,
  hvStatusName,
  hypercallName,
  type HypervisorCallResult,
  type HypervisorPort,
} from '@vtl/core'
import { RunMap } from '@vtl/memory'

/** One hypercall as the host received and answered it. */
export interface HypervisorCallRecord {
  /** The control word, `0x` hex. */
  control: string
  code: number
  /** TLFS name without `HvCall`, or `Unknown(0x…)`. */
  name: string
  /** The input bytes exactly as they arrived, lower-case hex pairs without separators. */
  input: string
  /** The result word, `0x` hex. */
  result: string
  status: string
  repsCompleted: number
}

/** Something the paravisor told the host that it should not have on TDX (§3, §4.1 step 8). */
export interface HypervisorAnomaly {
  /** Index into `calls`. */
  call: number
  kind: 'enable-partition-flags' | 'enable-vp-context-not-zero'
  detail: string
}

export interface UntrustedHypervisorOptions {
  /** VPs of the partition: EnableVpVtl for an index ≥ this is InvalidVpIndex. */
  vps: number
  /** Keep at most this many call records (oldest dropped first; counts stay exact). */
  recordLimit?: number
}

export interface UntrustedHypervisorJson {
  version: 1
  vps: number
  partitionVtl1: boolean
  vpVtl1: number[]
  /** Shared page runs: [startGpn, endGpn]. */
  shared: [number, number][]
  calls: HypervisorCallRecord[]
  droppedCalls: number
  anomalies: HypervisorAnomaly[]
  counts: Record<string, number>
}

export function bytesToHex(bytes: Uint8Array): string {
  // One flat string (concatenating per byte leaves a rope of one string per byte on the heap,
  // and the host keeps a record of every call).
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** '00' repeated, by byte count: the zero tails of forwarded inputs. */
const zeroHex: string[] = []

/** How many bytes at the end of `bytes` are zero (four at a time where it can). */
function zeroTail(bytes: Uint8Array): number {
  let end = bytes.length
  while (
    end >= 4 &&
    ((bytes[end - 1] ?? 0) |
      (bytes[end - 2] ?? 0) |
      (bytes[end - 3] ?? 0) |
      (bytes[end - 4] ?? 0)) ===
      0
  ) {
    end -= 4
  }
  while (end > 0 && bytes[end - 1] === 0) end--
  return bytes.length - end
}

/**
 * `bytesToHex` for a call record, given the input's `zeroTail`. A long zero tail (the 224-byte
 * context of an EnableVpVtl, which the paravisor zeroes on TDX) becomes one shared string joined
 * to the head's: the text is the same, but a 1024-VP boot does not keep a 480-character string
 * per EnableVpVtl.
 */
function recordHex(bytes: Uint8Array, zeros: number): string {
  if (zeros < 32) return bytesToHex(bytes)
  return (
    bytesToHex(bytes.subarray(0, bytes.length - zeros)) + (zeroHex[zeros] ??= '00'.repeat(zeros))
  )
}

const hex64 = (v: bigint): string => `0x${v.toString(16)}`

/** `hex64` of the last value seen, for a run of calls with the same control or result word. */
function lastHex(): (v: bigint) => string {
  let last = 0n
  let text = '0x0'
  return (v) => {
    if (v !== last) {
      last = v
      text = hex64(v)
    }
    return text
  }
}

/** GPNs the host tracks visibility for: 2^40 pages covers a 52-bit GPA space. */
const GPN_SPACE = 2 ** 40

interface Answer {
  status: number
  reps?: number
  anomaly?: Omit<HypervisorAnomaly, 'call'>
}

/**
 * The untrusted host (Hyper-V) at the hypercall level: it receives what the paravisor forwards
 * through `/dev/mshv_hvcall` — on TDX, EnablePartitionVtl (flags 0), EnableVpVtl (zero context)
 * and ModifySparseGpaPageHostVisibility — records every call byte for byte, and answers as
 * Hyper-V does. Everything else is InvalidHypercallCode: OpenHCL's allow-list forwards nothing
 * else on these paths.
 */
export class UntrustedHypervisor implements HypervisorPort {
  readonly vps: number
  readonly recordLimit: number
  readonly calls: HypervisorCallRecord[] = []
  readonly anomalies: HypervisorAnomaly[] = []
  /** Calls per name, never dropped. */
  readonly counts = new Map<string, number>()
  droppedCalls = 0
  private partitionVtl1 = false
  private readonly vpVtl1 = new Set<number>()
  /** 1 = shared with the host (host-visible read/write), 0 = private. */
  private readonly shared = new RunMap(GPN_SPACE, 0)
  private readonly controlHex = lastHex()
  private readonly resultHex = lastHex()

  constructor(options: UntrustedHypervisorOptions) {
    if (!Number.isSafeInteger(options.vps) || options.vps < 1) {
      throw new VtlError('E_FIELD_RANGE', `vps must be a positive integer, got ${options.vps}`, {
        field: 'vps',
      })
    }
    this.vps = options.vps
    this.recordLimit = options.recordLimit ?? 100_000
  }

  hypercall(control: bigint, input: Uint8Array): HypervisorCallResult {
    const c = decodeHypercallControl(control)
    const name = hypercallName(c.code) ?? `Unknown(0x${c.code.toString(16)})`
    const zeros = zeroTail(input)
    const answer = this.answer(c.code, c.repCount, c.repStart, input, zeros)
    const result = encodeHypercallResult({ status: answer.status, repsCompleted: answer.reps ?? 0 })
    const record: HypervisorCallRecord = {
      control: this.controlHex(control),
      code: c.code,
      name,
      input: recordHex(input, zeros),
      result: this.resultHex(result),
      status: hvStatusName(answer.status) ?? `0x${answer.status.toString(16)}`,
      repsCompleted: answer.reps ?? 0,
    }
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1)
    this.calls.push(record)
    if (answer.anomaly !== undefined) {
      this.anomalies.push({ call: this.droppedCalls + this.calls.length - 1, ...answer.anomaly })
    }
    if (this.calls.length > this.recordLimit) {
      this.calls.shift()
      this.droppedCalls++
    }
    return { result }
  }

  private answer(
    code: number,
    repCount: number,
    repStart: number,
    input: Uint8Array,
    zeros: number
  ): Answer {
    switch (code) {
      case HypercallCode.EnablePartitionVtl:
        return this.enablePartitionVtl(input)
      case HypercallCode.EnableVpVtl:
        return this.enableVpVtl(input, zeros)
      case HypercallCode.ModifySparseGpaPageHostVisibility:
        return this.modifyVisibility(input, repCount, repStart)
      default:
        return { status: HvStatus.InvalidHypercallCode }
    }
  }

  /** 16 bytes: partition_id u64, target_vtl u8, flags u8, reserved. */
  private enablePartitionVtl(input: Uint8Array): Answer {
    if (input.length !== 16) return { status: HvStatus.InvalidHypercallInput }
    const view = new DataView(input.buffer, input.byteOffset, input.byteLength)
    if (view.getBigUint64(0, true) !== HV_PARTITION_ID_SELF) {
      return { status: HvStatus.InvalidPartitionId }
    }
    const vtl = view.getUint8(8)
    const flags = view.getUint8(9)
    if (vtl === 0 || vtl > 2) return { status: HvStatus.InvalidParameter }
    // VTL2 is the paravisor's own and already enabled; VTL1 can be enabled once. Hyper-V's answer
    // to a repeat is InvalidVtlState, the code OpenHCL adopted in PR #3539 (§3 step 6).
    if (vtl === 2 || this.partitionVtl1) return { status: HvStatus.InvalidVtlState }
    this.partitionVtl1 = true
    const answer: Answer = { status: HvStatus.Success }
    if (flags !== 0) {
      answer.anomaly = {
        kind: 'enable-partition-flags',
        detail: `flags 0x${flags.toString(16)} reached the host; OpenHCL forwards 0 on CVMs`,
      }
    }
    return answer
  }

  /**
   * 240 bytes: partition_id, vp_index u32, target_vtl u8, 3 reserved, 224-byte context. `zeros`:
   * the input's zero tail (a zeroed context is 224 of them).
   */
  private enableVpVtl(input: Uint8Array, zeros: number): Answer {
    if (input.length !== 240) return { status: HvStatus.InvalidHypercallInput }
    const view = new DataView(input.buffer, input.byteOffset, input.byteLength)
    // HV_PARTITION_ID_SELF (all ones), compared as two halves: no bigint per forwarded call.
    if (view.getUint32(0, true) !== 0xffff_ffff || view.getUint32(4, true) !== 0xffff_ffff) {
      return { status: HvStatus.InvalidPartitionId }
    }
    const vp = view.getUint32(8, true)
    const vtl = view.getUint8(12)
    if (vp >= this.vps) return { status: HvStatus.InvalidVpIndex }
    if (vtl !== 1) return { status: HvStatus.InvalidParameter }
    if (!this.partitionVtl1) return { status: HvStatus.InvalidVtlState }
    if (this.vpVtl1.has(vp)) return { status: HvStatus.VtlAlreadyEnabled }
    this.vpVtl1.add(vp)
    const answer: Answer = { status: HvStatus.Success }
    if (zeros < 224) {
      // The context's first non-zero byte (a loop: no callback per forwarded call).
      let at = 16
      while (input[at] === 0) at++
      const firstNonZero = at - 16
      answer.anomaly = {
        kind: 'enable-vp-context-not-zero',
        detail: `VP ${vp}: context byte ${firstNonZero} is not 0; on TDX the host gets a zeroed context`,
      }
    }
    return answer
  }

  /** Header (16 B) then `repCount` u64 GPNs; elements before `repStart` are already done. */
  private modifyVisibility(input: Uint8Array, repCount: number, repStart: number): Answer {
    if (input.length !== 16 + 8 * repCount || repStart > repCount) {
      return { status: HvStatus.InvalidHypercallInput }
    }
    const view = new DataView(input.buffer, input.byteOffset, input.byteLength)
    if (view.getBigUint64(0, true) !== HV_PARTITION_ID_SELF) {
      return { status: HvStatus.InvalidPartitionId, reps: repStart }
    }
    const visibility = view.getUint32(8, true) & 3
    // Hardware CVMs know only private (0) and read-write (3).
    if (visibility === 1 || visibility === 2) {
      return { status: HvStatus.InvalidParameter, reps: repStart }
    }
    for (let i = repStart; i < repCount; i++) {
      const gpn = view.getBigUint64(16 + 8 * i, true)
      if (gpn >= BigInt(GPN_SPACE)) return { status: HvStatus.InvalidParameter, reps: i }
      const page = Number(gpn)
      this.shared.assign(page, page + 1, visibility === 3 ? 1 : 0)
    }
    return { status: HvStatus.Success, reps: repCount }
  }

  // ---- queries ----

  get partitionVtl1Enabled(): boolean {
    return this.partitionVtl1
  }

  vpVtl1Enabled(vp: number): boolean {
    return this.vpVtl1.has(vp)
  }

  /** Whether the host was told that `gpn` is shared. */
  isShared(gpn: number | bigint): boolean {
    return this.shared.valueAt(Number(gpn)) === 1
  }

  /** Calls per name, for reports (`stats.hypervisorCalls`). */
  callCounts(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
  }

  // ---- save / restore ----

  toJSON(): UntrustedHypervisorJson {
    const shared: [number, number][] = []
    this.shared.forEachRun(0, GPN_SPACE, (s, e, v) => {
      if (v === 1) shared.push([s, e])
    })
    return {
      version: 1,
      vps: this.vps,
      partitionVtl1: this.partitionVtl1,
      vpVtl1: [...this.vpVtl1].sort((a, b) => a - b),
      shared,
      calls: this.calls.map((c) => ({ ...c })),
      droppedCalls: this.droppedCalls,
      anomalies: this.anomalies.map((a) => ({ ...a })),
      counts: this.callCounts(),
    }
  }

  static fromJSON(json: UntrustedHypervisorJson, recordLimit?: number): UntrustedHypervisor {
    const hv = new UntrustedHypervisor(
      recordLimit === undefined ? { vps: json.vps } : { vps: json.vps, recordLimit }
    )
    hv.partitionVtl1 = json.partitionVtl1
    for (const vp of json.vpVtl1) hv.vpVtl1.add(vp)
    for (const [s, e] of json.shared) hv.shared.assign(s, e, 1)
    hv.calls.push(...json.calls.map((c) => ({ ...c })))
    hv.droppedCalls = json.droppedCalls
    hv.anomalies.push(...json.anomalies.map((a) => ({ ...a })))
    for (const [k, v] of Object.entries(json.counts)) hv.counts.set(k, v)
    return hv
  }
}
