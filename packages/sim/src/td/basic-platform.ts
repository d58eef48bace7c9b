import {
  HvStatus,
  TdcallLeaf,
  decodeHypercallControl,
  makeTdxStatus,
  TdxStatus,
  type HypervisorCallResult,
  type HypervisorPort,
  type TdcallInput,
  type TdcallOutput,
} from '@vtl/core'
import type { GpaSpace, PlanSink } from '@vtl/memory'
import type { PageAttrFacts, TdPlatform } from './platform.js'

/** One call the hypervisor was told about, as recorded. */
export interface HostCallRecord {
  code: number
  input: string
}

const ZERO_OUT: TdcallOutput = { rax: 0n, rcx: 0n, rdx: 0n, r8: 0n, r9: 0n, r10: 0n, r11: 0n }

/**
 * A minimal platform: VMCS fields in a map per VP, plan operations accepted as they come (the
 * GpaSpace map then *is* the page-attribute state), and a hypervisor that records every forwarded
 * call and answers Success. It stands in for the software TDX module and the untrusted
 * hypervisor until those are bound (see README "What remains").
 */
export class BasicPlatform implements TdPlatform {
  private readonly vmcs = new Map<string, bigint>()
  readonly hostCalls: HostCallRecord[] = []
  readonly hypervisor: HypervisorPort
  private space: GpaSpace | undefined

  constructor() {
    this.hypervisor = {
      hypercall: (control: bigint, input: Uint8Array): HypervisorCallResult => {
        const { code } = decodeHypercallControl(control)
        this.hostCalls.push({ code, input: Buffer.from(input).toString('hex') })
        return { result: BigInt(HvStatus.Success) }
      },
    }
  }

  /** The space whose map answers `pageAttr` (the sink applies plans to it as they run). */
  bindSpace(space: GpaSpace): void {
    this.space = space
  }

  tdcall(vp: number, input: TdcallInput): TdcallOutput {
    if (input.leaf === TdcallLeaf['TDG.VP.WR']) {
      this.vmcs.set(`${vp}:${input.rdx.toString(16)}`, input.r8)
      return ZERO_OUT
    }
    if (input.leaf === TdcallLeaf['TDG.VP.RD']) {
      return { ...ZERO_OUT, r8: this.vmcs.get(`${vp}:${input.rdx.toString(16)}`) ?? 0n }
    }
    return { ...ZERO_OUT, rax: makeTdxStatus(TdxStatus.TDX_OPERAND_INVALID) }
  }

  planSink(): PlanSink {
    return { execute: () => 0n }
  }

  pageAttr(gpn: bigint): PageAttrFacts {
    const state = this.space?.stateOf(gpn << 12n)
    if (state === undefined) return { accepted: false, vm1: 0, vm2: 0 }
    return { accepted: state.accepted && !state.shared, vm1: state.vm1Attr, vm2: state.vm2Attr }
  }

  save(): unknown {
    return {
      vmcs: [...this.vmcs].map(([k, v]) => [k, `0x${v.toString(16)}`]),
      hostCalls: this.hostCalls,
    }
  }

  restore(saved: unknown): void {
    const s = saved as { vmcs: [string, string][]; hostCalls: HostCallRecord[] }
    this.vmcs.clear()
    for (const [k, v] of s.vmcs) this.vmcs.set(k, BigInt(v))
    this.hostCalls.length = 0
    this.hostCalls.push(...s.hostCalls)
  }
}
