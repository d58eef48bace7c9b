import { HvMapGpaFlags } from '../hv/map-gpa-flags.js'
import { HvStatus } from '../hv/status.js'
import {
  VP_ASSIST_PAGE_SIZE,
  VpAssistPageOffset,
  readVpVtlControl,
  writeVpVtlControl,
} from '../hv/vp-assist-page.js'
import type { GuestVtl } from '../hv/vtl.js'
import type { VsmEngine } from './engine.js'
import type { VsmVp, VtlState } from './vp.js'

/**
 * The overlay pages of a VTL (§13.14, `hv1_emulator` `OverlayPage`): a logical page the paravisor
 * owns, zeroed at reset. While its MSR maps it at GPN g it *is* guest RAM at g: the paravisor reads
 * and writes its fields there, and the guest sees and changes the same bytes. Unmapped, it lives in
 * a private buffer (the VTL's `control` block and `synic.message` slots, plus `overlayPrivate`).
 * Without a `GuestMemoryPort` every overlay stays private.
 */
export type OverlayKind = 'assist' | 'simp' | 'siefp'

const PAGE = VP_ASSIST_PAGE_SIZE
const ENABLE = 1n
const PAGE_MASK = ~0xfffn
/** `HvMessageHeader`: type u32 @0, payload size u8 @4, flags u8 @5 (bit 0 message_pending). */
const MESSAGE_SIZE = 256
const MESSAGE_FLAGS = 5
const MESSAGE_PENDING = 1

function msrOf(state: VtlState, kind: OverlayKind): bigint {
  return kind === 'assist'
    ? state.vpAssistPage
    : kind === 'simp'
      ? state.synic.simp
      : state.synic.siefp
}

function setMsr(state: VtlState, kind: OverlayKind, value: bigint): void {
  if (kind === 'assist') state.vpAssistPage = value
  else if (kind === 'simp') state.synic.simp = value
  else state.synic.siefp = value
}

/** The GPA an overlay MSR maps (enable bit 0, GPN in bits 63:12), or undefined. */
function mappedGpa(msr: bigint): bigint | undefined {
  return (msr & ENABLE) === 0n ? undefined : msr & PAGE_MASK
}

/** Where `kind` of `state` lives in guest RAM now: undefined while private. */
function ramGpa(engine: VsmEngine, state: VtlState, kind: OverlayKind): bigint | undefined {
  if (engine.ports.guestMemory === undefined) return undefined
  return mappedGpa(msrOf(state, kind))
}

/** The private copy of an overlay as page bytes. */
function privatePage(state: VtlState, kind: OverlayKind): Uint8Array {
  const page = new Uint8Array(PAGE)
  const saved = state.overlayPrivate[kind]
  if (saved !== undefined) page.set(saved)
  if (kind === 'assist') writeVpVtlControl(page, state.control)
  if (kind === 'simp') {
    state.synic.message.forEach((message, sint) => {
      if (message !== undefined && state.synic.slotBusy[sint] === true) {
        page.set(message, sint * MESSAGE_SIZE)
      }
    })
  }
  return page
}

/** Page bytes back into the private copy (RAM at the old GPN keeps them too). */
function storePrivate(state: VtlState, kind: OverlayKind, page: Uint8Array): void {
  state.overlayPrivate[kind] = page
  if (kind === 'assist') state.control = readVpVtlControl(page)
  if (kind === 'simp') {
    for (let sint = 0; sint < state.synic.message.length; sint++) {
      const slot = page.subarray(sint * MESSAGE_SIZE, (sint + 1) * MESSAGE_SIZE)
      const busy = new DataView(slot.buffer, slot.byteOffset, 4).getUint32(0, true) !== 0
      state.synic.slotBusy[sint] = busy
      state.synic.message[sint] = busy ? slot.slice() : undefined
    }
  }
}

/**
 * An overlay page of `vtl` moves from GPA `before` to `after` (undefined: not mapped): the new
 * page is registered first (`check_modify_and_lock_overlay_page` with `registration`), and only
 * then is the old one released. False when the new page cannot be registered: nothing changed.
 */
export function moveOverlay(
  engine: VsmEngine,
  vtl: GuestVtl,
  before: bigint | undefined,
  after: bigint | undefined,
  registration: { check: number; perms?: number }
): boolean {
  if (before === after) return true
  const { protection } = engine.ports
  if (after !== undefined && protection.registerOverlay !== undefined) {
    const lock = protection.registerOverlay(vtl, after >> 12n, registration)
    if (lock.status !== HvStatus.Success) return false
  }
  if (before !== undefined) protection.unregisterOverlay?.(vtl, before >> 12n)
  return true
}

/**
 * A write of an overlay MSR (HV_X64_MSR_VP_ASSIST_PAGE, SIMP, SIEFP) by or for `vtl` (§13.14).
 * Mapping at a new GPN first registers and locks it as an overlay of `vtl`
 * (`check_modify_and_lock_overlay_page`: RAM the VTL may read and write, not locked, not host
 * visible; otherwise InvalidRegisterValue for the assist page, InvalidParameter for the SynIC
 * pages, and the MSR keeps its value), then copies the overlay's current bytes there; unmapping
 * copies RAM back into the private buffer.
 */
export function writeOverlayMsr(
  engine: VsmEngine,
  vp: VsmVp,
  vtl: GuestVtl,
  kind: OverlayKind,
  value: bigint
): HvStatus {
  const state = vp.vtls[vtl]
  const memory = engine.ports.guestMemory
  const before = mappedGpa(msrOf(state, kind))
  const after = mappedGpa(value)
  if (memory === undefined || before === after) {
    setMsr(state, kind, value)
    return HvStatus.Success
  }
  const bytes =
    before === undefined
      ? privatePage(state, kind)
      : (memory.read(before, PAGE) ?? privatePage(state, kind))
  const check = HvMapGpaFlags.Readable | HvMapGpaFlags.Writable
  if (!moveOverlay(engine, vtl, before, after, { check })) {
    return kind === 'assist' ? HvStatus.InvalidRegisterValue : HvStatus.InvalidParameter
  }
  if (after === undefined) storePrivate(state, kind, bytes)
  else memory.write(after, bytes)
  setMsr(state, kind, value)
  return HvStatus.Success
}

function u32(value: number): Uint8Array {
  const bytes = new Uint8Array(4)
  new DataView(bytes.buffer).setUint32(0, value >>> 0, true)
  return bytes
}

/** `vtl_control.entry_reason` of VTL1's assist page, written on every entry into VTL1. */
export function setEntryReason(engine: VsmEngine, vp: VsmVp, reason: number): void {
  const vtl1 = vp.vtls[1]
  // The common case (no assist page) compares instead of masking: no BigInt allocation.
  const gpa = vtl1.vpAssistPage === 0n ? undefined : ramGpa(engine, vtl1, 'assist')
  if (gpa === undefined) vtl1.control.entryReason = reason
  else engine.ports.guestMemory?.write(gpa + BigInt(VpAssistPageOffset.entryReason), u32(reason))
}

export function entryReason(engine: VsmEngine, vp: VsmVp): number {
  const vtl1 = vp.vtls[1]
  const gpa = vtl1.vpAssistPage === 0n ? undefined : ramGpa(engine, vtl1, 'assist')
  const bytes =
    gpa === undefined
      ? undefined
      : engine.ports.guestMemory?.read(gpa + BigInt(VpAssistPageOffset.entryReason), 4)
  if (bytes === undefined) return vtl1.control.entryReason
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true)
}

/** `vtl_control.vina_status` of VTL1's assist page (the guest re-arms VINA by clearing it). */
export function vinaStatus(engine: VsmEngine, vp: VsmVp): number {
  const vtl1 = vp.vtls[1]
  const gpa = vtl1.vpAssistPage === 0n ? undefined : ramGpa(engine, vtl1, 'assist')
  const bytes =
    gpa === undefined
      ? undefined
      : engine.ports.guestMemory?.read(gpa + BigInt(VpAssistPageOffset.vinaStatus), 1)
  return bytes === undefined ? vtl1.control.vinaStatus : (bytes[0] ?? 0)
}

export function setVinaStatus(engine: VsmEngine, vp: VsmVp, status: number): void {
  const vtl1 = vp.vtls[1]
  const gpa = vtl1.vpAssistPage === 0n ? undefined : ramGpa(engine, vtl1, 'assist')
  if (gpa === undefined) vtl1.control.vinaStatus = status
  else {
    const at = gpa + BigInt(VpAssistPageOffset.vinaStatus)
    engine.ports.guestMemory?.write(at, Uint8Array.of(status))
  }
}

/** `vtl_control.registers` (RAX, RCX) a non-fast VtlReturn restores (§7.2, §13.9). */
export function vtlReturnRegisters(engine: VsmEngine, vp: VsmVp): readonly [bigint, bigint] {
  const vtl1 = vp.vtls[1]
  const gpa = ramGpa(engine, vtl1, 'assist')
  const bytes =
    gpa === undefined
      ? undefined
      : engine.ports.guestMemory?.read(gpa + BigInt(VpAssistPageOffset.vtlReturnRegisters), 16)
  if (bytes === undefined) return vtl1.control.registers
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16)
  return [view.getBigUint64(0, true), view.getBigUint64(8, true)]
}

/**
 * Post a message into `sint`'s slot of `vtl`'s SIMP (§13.14, §13.17): in guest RAM while SIMP is
 * mapped, where a slot is busy while its message type is non-zero (the guest frees it by clearing
 * the type) and a post into a busy slot sets `message_pending` in its header; otherwise in the
 * paravisor's private page, whose slot nobody can clear (§13.1). Returns false when the slot is busy.
 */
export function postMessage(
  engine: VsmEngine,
  vp: VsmVp,
  vtl: GuestVtl,
  sint: number,
  message: Uint8Array
): boolean {
  const state = vp.vtls[vtl]
  const gpa = ramGpa(engine, state, 'simp')
  const memory = engine.ports.guestMemory
  if (gpa === undefined || memory === undefined) {
    if (state.synic.slotBusy[sint] === true) return false
    state.synic.slotBusy[sint] = true
    state.synic.message[sint] = message
    return true
  }
  const slot = gpa + BigInt(sint * MESSAGE_SIZE)
  const header = memory.read(slot, 8)
  if (
    header !== undefined &&
    new DataView(header.buffer, header.byteOffset, 4).getUint32(0, true) !== 0
  ) {
    memory.write(
      slot + BigInt(MESSAGE_FLAGS),
      Uint8Array.of((header[MESSAGE_FLAGS] ?? 0) | MESSAGE_PENDING)
    )
    return false
  }
  return memory.write(slot, message)
}
