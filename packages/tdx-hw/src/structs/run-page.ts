import {
  TDX_L2_ENTER_GUEST_STATE_SIZE,
  decodeTdxL2EnterGuestState,
  encodeTdxL2EnterGuestState,
  type TdxL2EnterGuestState,
} from '@vtl/core'
import { defineStruct, expectSize, type StructValue } from './struct-codec.js'

/**
 * `struct mshv_vtl_run` (abi.md §1.6), the fork layout; offsets 0, 4, 16, 272 and 1296 are the
 * same upstream. One 4 KiB page per CPU, mapped from the VTL fd.
 */
export const RunPageOffset = {
  cancel: 0,
  vtlRetActionSize: 4,
  flags: 8,
  scanProxyIrr: 12,
  offloadFlags: 13,
  enterMode: 15,
  exitMessage: 16,
  context: 272,
  vtlRetActions: 1296,
  proxyIrr: 1552,
  targetVtl: 1584,
  proxyIrrBlocked: 1588,
  proxyIrrExitMask: 1620,
} as const

export const RUN_PAGE_SIZE = 4096
export const RUN_PAGE_EXIT_MESSAGE_SIZE = 256
export const RUN_PAGE_CONTEXT_SIZE = 1024
export const RUN_PAGE_VTL_RET_ACTIONS_SIZE = 256
/** `MSHV_VTL_RUN_FLAG_HALTED`. */
export const RUN_FLAG_HALTED = 1

export const RunPageHeader = defineStruct('mshv_vtl_run', 16, {
  /** Nonzero ⇒ RETURN_TO_LOWER_VTL returns -EINTR; user space clears it. */
  cancel: [0, 'u32'],
  vtlRetActionSize: [4, 'u32'],
  flags: [8, 'u32'],
  scanProxyIrr: [12, 'u8'],
  offloadFlags: [13, 'u8'],
  /** Low nibble: first entry mode; high nibble: re-entry mode. */
  enterMode: [15, 'u8'],
} as const)
export type RunPageHeader = StructValue<typeof RunPageHeader.layout>

/** Offsets inside the 1024-byte `tdx_vp_context` (run page offset 272; abi.md §1.7). */
export const TdxVpContextOffset = {
  exitInfo: 0,
  vpState: 136,
  entryRcx: 232,
  l2EnterGuestState: 240,
  l2TscDeadline: 400,
  fxState: 496,
} as const

export const TDX_VP_CONTEXT_SIZE = 1024
export const FXSAVE_SIZE = 512

/** TDG.VP.ENTER's outputs as the kernel saved them (abi.md §3.6). */
export const TdxExitInfo = defineStruct('tdx_vp_context.exit_info', 88, {
  rax: [0, 'u64'],
  rcx: [8, 'u64'],
  rdx: [16, 'u64'],
  rsi: [24, 'u64'],
  rdi: [32, 'u64'],
  r8: [40, 'u64'],
  r9: [48, 'u64'],
  r10: [56, 'u64'],
  r11: [64, 'u64'],
  r12: [72, 'u64'],
  r13: [80, 'u64'],
} as const)
export type TdxExitInfo = StructValue<typeof TdxExitInfo.layout>

/** The L1 state the kernel restores around TDG.VP.ENTER. */
export const TdxVpState = defineStruct('tdx_vp_context.vp_state', 64, {
  msrKernelGsBase: [0, 'u64'],
  msrStar: [8, 'u64'],
  msrLstar: [16, 'u64'],
  msrSfmask: [24, 'u64'],
  msrXss: [32, 'u64'],
  cr2: [40, 'u64'],
  msrTscAux: [48, 'u64'],
  /** Bit 0 WBINVD, bit 1 WBNOINVD before entry; the kernel clears them. */
  flags: [56, 'u64'],
} as const)
export type TdxVpState = StructValue<typeof TdxVpState.layout>

export const TdxL2TscDeadline = defineStruct('tdx_vp_context.l2_tsc_deadline', 16, {
  /** 0 = disarmed. */
  deadline: [0, 'u64'],
  /** Bit 0: the kernel must TDG.VP.WR the deadline (it clears the bit). */
  update: [8, 'u8'],
} as const)
export type TdxL2TscDeadline = StructValue<typeof TdxL2TscDeadline.layout>

export const TdxVpStateFlags = { WBINVD: 1n, WBNOINVD: 2n } as const

/** The whole TDX VP context, decoded. */
export interface TdxVpContext {
  exitInfo: TdxExitInfo
  vpState: TdxVpState
  /** TDG.VP.ENTER RCX: VM index (bits 53:52) and invalidation flags. */
  entryRcx: bigint
  l2EnterGuestState: TdxL2EnterGuestState
  l2TscDeadline: TdxL2TscDeadline
  /** The 512-byte FXSAVE area. */
  fxState: Uint8Array
}

export function decodeTdxVpContext(bytes: Uint8Array): TdxVpContext {
  expectSize(bytes, TDX_VP_CONTEXT_SIZE, 'tdx_vp_context')
  const o = TdxVpContextOffset
  return {
    exitInfo: TdxExitInfo.read(bytes, o.exitInfo),
    vpState: TdxVpState.read(bytes, o.vpState),
    entryRcx: new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(o.entryRcx, true),
    l2EnterGuestState: decodeTdxL2EnterGuestState(
      bytes.subarray(o.l2EnterGuestState, o.l2EnterGuestState + TDX_L2_ENTER_GUEST_STATE_SIZE)
    ),
    l2TscDeadline: TdxL2TscDeadline.read(bytes, o.l2TscDeadline),
    fxState: bytes.slice(o.fxState, o.fxState + FXSAVE_SIZE),
  }
}

export function encodeTdxVpContext(context: TdxVpContext): Uint8Array {
  const bytes = new Uint8Array(TDX_VP_CONTEXT_SIZE)
  const o = TdxVpContextOffset
  expectSize(context.fxState, FXSAVE_SIZE, 'tdx_vp_context.fx_state')
  TdxExitInfo.write(bytes, context.exitInfo, o.exitInfo)
  TdxVpState.write(bytes, context.vpState, o.vpState)
  new DataView(bytes.buffer).setBigUint64(o.entryRcx, context.entryRcx, true)
  bytes.set(encodeTdxL2EnterGuestState(context.l2EnterGuestState), o.l2EnterGuestState)
  TdxL2TscDeadline.write(bytes, context.l2TscDeadline, o.l2TscDeadline)
  bytes.set(context.fxState, o.fxState)
  return bytes
}

/**
 * A live view of one CPU's run page (a mapping, or any 4096-byte buffer): reads and writes go
 * straight to the shared memory the kernel sees.
 */
export class RunPage {
  readonly bytes: Uint8Array
  private readonly view: DataView

  constructor(bytes: Uint8Array) {
    expectSize(bytes, RUN_PAGE_SIZE, 'mshv_vtl_run')
    this.bytes = bytes
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  get cancel(): number {
    return this.view.getUint32(RunPageOffset.cancel, true)
  }
  set cancel(value: number) {
    this.view.setUint32(RunPageOffset.cancel, value, true)
  }

  header(): RunPageHeader {
    return RunPageHeader.read(this.bytes)
  }

  /** The intercept `hv_message` (non-CVM). */
  exitMessage(): Uint8Array {
    const at = RunPageOffset.exitMessage
    return this.bytes.subarray(at, at + RUN_PAGE_EXIT_MESSAGE_SIZE)
  }

  /** The 1024-byte context union; on TDX the `tdx_vp_context`. */
  context(): Uint8Array {
    const at = RunPageOffset.context
    return this.bytes.subarray(at, at + RUN_PAGE_CONTEXT_SIZE)
  }

  tdxContext(): TdxVpContext {
    return decodeTdxVpContext(this.context())
  }

  exitInfo(): TdxExitInfo {
    return TdxExitInfo.read(this.context(), TdxVpContextOffset.exitInfo)
  }

  get entryRcx(): bigint {
    return this.view.getBigUint64(RunPageOffset.context + TdxVpContextOffset.entryRcx, true)
  }
  set entryRcx(value: bigint) {
    this.view.setBigUint64(RunPageOffset.context + TdxVpContextOffset.entryRcx, value, true)
  }

  l2EnterGuestState(): TdxL2EnterGuestState {
    const at = TdxVpContextOffset.l2EnterGuestState
    return decodeTdxL2EnterGuestState(
      this.context().subarray(at, at + TDX_L2_ENTER_GUEST_STATE_SIZE)
    )
  }

  setL2EnterGuestState(state: TdxL2EnterGuestState): void {
    this.context().set(encodeTdxL2EnterGuestState(state), TdxVpContextOffset.l2EnterGuestState)
  }

  vpState(): TdxVpState {
    return TdxVpState.read(this.context(), TdxVpContextOffset.vpState)
  }

  setVpState(state: Partial<TdxVpState>): void {
    TdxVpState.write(this.context(), state, TdxVpContextOffset.vpState)
  }

  tscDeadline(): TdxL2TscDeadline {
    return TdxL2TscDeadline.read(this.context(), TdxVpContextOffset.l2TscDeadline)
  }

  setTscDeadline(deadline: bigint): void {
    TdxL2TscDeadline.write(
      this.context(),
      { deadline, update: 1 },
      TdxVpContextOffset.l2TscDeadline
    )
  }

  fxState(): Uint8Array {
    const at = TdxVpContextOffset.fxState
    return this.context().subarray(at, at + FXSAVE_SIZE)
  }
}
