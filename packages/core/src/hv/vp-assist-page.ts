import { checkObject, checkU64, checkUint, expectLength, viewOf } from './bytes.js'

/**
 * The VP assist page (`HvVpAssistPage`, one 4 KiB page per VTL, MSR 0x40000073; vsm-on-tdx.md
 * §7.3). Only the VTL-control block matters for VSM: the entry reason the hypervisor writes when
 * it enters a VTL, the VINA status, and the two registers a non-fast VtlReturn restores into
 * RAX/RCX. Readers and writers below work in place on the page bytes and touch nothing else.
 */
export const VP_ASSIST_PAGE_SIZE = 4096

export const VpAssistPageOffset = {
  apicAssist: 0,
  /** `HvVpVtlControl` (24 B). */
  vtlControl: 8,
  entryReason: 8,
  vinaStatus: 12,
  /** registers[0] (RAX) @16, registers[1] (RCX) @24. */
  vtlReturnRegisters: 16,
  nestedEnlightenmentsControl: 32,
  enlightenVmEntry: 40,
  currentNestedVmcs: 48,
  syntheticTimeUnhaltedTimerExpired: 56,
  virtualizationFaultInformation: 64,
  /** `HvMessage` (256 B). */
  interceptMessage: 112,
  /** 256 bytes. */
  vtlReturnActions: 368,
} as const

export const HV_VP_VTL_CONTROL_SIZE = 24
export const HV_MESSAGE_SIZE = 256
export const VTL_RETURN_ACTIONS_SIZE = 256

/** `HvVtlEntryReason` (u32): why the hypervisor entered this VTL. */
export const VtlEntryReason = {
  Reserved: 0,
  VtlCall: 1,
  Interrupt: 2,
  /** Delivered through the intercept page; never used on CVMs (intercepts arrive on SINT0). */
  Intercept: 3,
} as const

export type VtlEntryReasonName = keyof typeof VtlEntryReason

/** `HvVpVtlControl`; its three reserved bytes @13 are left alone by the writers. */
export interface VpVtlControl {
  /** u32, normally a `VtlEntryReason` value; other values are returned as read. */
  entryReason: number
  /** u8; non-zero means the VINA line is asserted. */
  vinaStatus: number
  /** RAX then RCX, restored by a non-fast VtlReturn. */
  registers: [bigint, bigint]
}

const FIELD = 'HvVpAssistPage'

function pageView(page: Uint8Array): DataView {
  expectLength(page, VP_ASSIST_PAGE_SIZE, FIELD)
  return viewOf(page)
}

export function readVpVtlControl(page: Uint8Array): VpVtlControl {
  const view = pageView(page)
  return {
    entryReason: view.getUint32(VpAssistPageOffset.entryReason, true),
    vinaStatus: view.getUint8(VpAssistPageOffset.vinaStatus),
    registers: [
      view.getBigUint64(VpAssistPageOffset.vtlReturnRegisters, true),
      view.getBigUint64(VpAssistPageOffset.vtlReturnRegisters + 8, true),
    ],
  }
}

export function writeVpVtlControl(page: Uint8Array, control: VpVtlControl): void {
  const view = pageView(page)
  checkObject(control, FIELD, 'vtlControl')
  checkObject(control.registers, FIELD, 'registers')
  checkUint(control.entryReason, 32, FIELD, 'entryReason')
  checkUint(control.vinaStatus, 8, FIELD, 'vinaStatus')
  checkU64(control.registers[0], FIELD, 'registers[0]')
  checkU64(control.registers[1], FIELD, 'registers[1]')
  view.setUint32(VpAssistPageOffset.entryReason, control.entryReason, true)
  view.setUint8(VpAssistPageOffset.vinaStatus, control.vinaStatus)
  view.setBigUint64(VpAssistPageOffset.vtlReturnRegisters, control.registers[0], true)
  view.setBigUint64(VpAssistPageOffset.vtlReturnRegisters + 8, control.registers[1], true)
}

export function readVtlEntryReason(page: Uint8Array): number {
  return pageView(page).getUint32(VpAssistPageOffset.entryReason, true)
}

export function writeVtlEntryReason(page: Uint8Array, reason: number): void {
  const view = pageView(page)
  checkUint(reason, 32, FIELD, 'entryReason')
  view.setUint32(VpAssistPageOffset.entryReason, reason, true)
}

export function readVinaStatus(page: Uint8Array): number {
  return pageView(page).getUint8(VpAssistPageOffset.vinaStatus)
}

export function writeVinaStatus(page: Uint8Array, status: number): void {
  const view = pageView(page)
  checkUint(status, 8, FIELD, 'vinaStatus')
  view.setUint8(VpAssistPageOffset.vinaStatus, status)
}

/** `vtl_control.registers`: what a non-fast VtlReturn copies into RAX and RCX. */
export function readVtlReturnRegisters(page: Uint8Array): [bigint, bigint] {
  const view = pageView(page)
  return [
    view.getBigUint64(VpAssistPageOffset.vtlReturnRegisters, true),
    view.getBigUint64(VpAssistPageOffset.vtlReturnRegisters + 8, true),
  ]
}

export function writeVtlReturnRegisters(page: Uint8Array, rax: bigint, rcx: bigint): void {
  const view = pageView(page)
  checkU64(rax, FIELD, 'registers[0]')
  checkU64(rcx, FIELD, 'registers[1]')
  view.setBigUint64(VpAssistPageOffset.vtlReturnRegisters, rax, true)
  view.setBigUint64(VpAssistPageOffset.vtlReturnRegisters + 8, rcx, true)
}

/** A view of the 256-byte intercept message slot (shares memory with the page). */
export function interceptMessageBytes(page: Uint8Array): Uint8Array {
  expectLength(page, VP_ASSIST_PAGE_SIZE, FIELD)
  return page.subarray(
    VpAssistPageOffset.interceptMessage,
    VpAssistPageOffset.interceptMessage + HV_MESSAGE_SIZE
  )
}

/** A view of the 256-byte VTL return actions area (shares memory with the page). */
export function vtlReturnActionsBytes(page: Uint8Array): Uint8Array {
  expectLength(page, VP_ASSIST_PAGE_SIZE, FIELD)
  return page.subarray(
    VpAssistPageOffset.vtlReturnActions,
    VpAssistPageOffset.vtlReturnActions + VTL_RETURN_ACTIONS_SIZE
  )
}
