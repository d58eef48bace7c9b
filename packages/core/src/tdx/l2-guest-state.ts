import { VtlError } from '../errors/vtl-error.js'
import { checkInt, checkU64 } from './u64.js'

/** Index of each GPR in `TdxL2EnterGuestState.gps`: the x86 encoding order. */
export const TdxGp = {
  RAX: 0,
  RCX: 1,
  RDX: 2,
  RBX: 3,
  RSP: 4,
  RBP: 5,
  RSI: 6,
  RDI: 7,
  R8: 8,
  R9: 9,
  R10: 10,
  R11: 11,
  R12: 12,
  R13: 13,
  R14: 14,
  R15: 15,
} as const

/**
 * `L2_ENTER_GUEST_STATE`, the GPR list TDG.VP.ENTER loads and saves (run page offset 512 on the
 * OpenHCL kernel; abi.md §1.7, vsm-on-tdx.md §6.5).
 */
export interface TdxL2EnterGuestState {
  /** 16 GPRs in `TdxGp` order. */
  gps: readonly bigint[]
  rflags: bigint
  rip: bigint
  ssp: bigint
  /** GUEST_INTERRUPT_STATUS low byte. */
  rvi: number
  /** GUEST_INTERRUPT_STATUS high byte. */
  svi: number
}

export const TDX_L2_ENTER_GUEST_STATE_SIZE = 160

const OFFSET_RFLAGS = 128
const OFFSET_RIP = 136
const OFFSET_SSP = 144
const OFFSET_RVI = 152
const OFFSET_SVI = 153

export function encodeTdxL2EnterGuestState(state: TdxL2EnterGuestState): Uint8Array {
  if (state.gps.length !== 16) {
    throw new VtlError('E_FIELD_RANGE', `gps must hold 16 registers, got ${state.gps.length}`, {
      field: 'gps',
    })
  }
  state.gps.forEach((value, i) => {
    checkU64(value, `gps[${i}]`)
  })
  checkU64(state.rflags, 'rflags')
  checkU64(state.rip, 'rip')
  checkU64(state.ssp, 'ssp')
  checkInt(state.rvi, 0, 0xff, 'rvi')
  checkInt(state.svi, 0, 0xff, 'svi')
  // The six reserved bytes stay zero.
  const bytes = new Uint8Array(TDX_L2_ENTER_GUEST_STATE_SIZE)
  const view = new DataView(bytes.buffer)
  state.gps.forEach((value, i) => {
    view.setBigUint64(i * 8, value, true)
  })
  view.setBigUint64(OFFSET_RFLAGS, state.rflags, true)
  view.setBigUint64(OFFSET_RIP, state.rip, true)
  view.setBigUint64(OFFSET_SSP, state.ssp, true)
  view.setUint8(OFFSET_RVI, state.rvi)
  view.setUint8(OFFSET_SVI, state.svi)
  return bytes
}

/**
 * Reads the 160-byte structure (any byte offset). The reserved tail is ignored: the kernel and
 * the TDX module own that memory and we only consume what the ABI defines.
 */
export function decodeTdxL2EnterGuestState(bytes: Uint8Array): TdxL2EnterGuestState {
  if (bytes.byteLength !== TDX_L2_ENTER_GUEST_STATE_SIZE) {
    throw new VtlError(
      'E_DECODE_LENGTH',
      `TdxL2EnterGuestState is ${TDX_L2_ENTER_GUEST_STATE_SIZE} bytes, got ${bytes.byteLength}`,
      { field: 'TdxL2EnterGuestState' }
    )
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const gps: bigint[] = []
  for (let i = 0; i < 16; i++) gps.push(view.getBigUint64(i * 8, true))
  return {
    gps,
    rflags: view.getBigUint64(OFFSET_RFLAGS, true),
    rip: view.getBigUint64(OFFSET_RIP, true),
    ssp: view.getBigUint64(OFFSET_SSP, true),
    rvi: view.getUint8(OFFSET_RVI),
    svi: view.getUint8(OFFSET_SVI),
  }
}
