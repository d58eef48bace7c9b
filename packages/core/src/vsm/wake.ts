import { VtlError } from '../errors/vtl-error.js'
import { HvStatus } from '../hv/status.js'
import type { GuestVtl } from '../hv/vtl.js'
import type { VsmEngine } from './engine.js'
import { INITIAL_CONTEXT_SIZE, PendingOperation, WakeReason } from './shared-state.js'
import { sharedContextRegisters } from './shared-contexts.js'
import type { VsmVp } from './vp.js'

/** What one `handleWake` did, per VTL (for traces and tests). */
export interface WakeOutcome {
  /** The wake words that were taken, VTL0 then VTL1. */
  reasons: [number, number]
  /** The context operations applied, per VTL (None when there was nothing queued). */
  applied: [PendingOperation, PendingOperation]
  /** Success, or the VpPort status that kept a context from being applied (it stays queued). */
  status: HvStatus
}

/**
 * `hcvm_handle_vp_start_enable_vtl` (§4.2) for one VTL: take the queued context, make VTL1 Active
 * for an EnableVpVtl, apply the registers (TDG.VP.WR through the VpPort, then the engine's bank),
 * set the LAPIC running and, for a StartVp, pick the VTL that runs first.
 */
/**
 * The queued record is copied here, looked up (`sharedContextRegisters`) and (on a failed write)
 * queued again: one buffer for every call.
 */
const record = new Uint8Array(INITIAL_CONTEXT_SIZE)
const recordWords = new Uint32Array(record.buffer)

function applyQueuedContext(
  engine: VsmEngine,
  vp: VsmVp,
  vtl: GuestVtl
): [PendingOperation, HvStatus] {
  const operation = engine.shared.takePendingContext(vp.index, vtl, record)
  if (operation === PendingOperation.None) return [operation, HvStatus.Success]
  if (vtl === 1 && !engine.shared.vtl1EnableCalled(vp.index)) {
    throw new VtlError('E_INVARIANT', `VP ${vp.index}: VTL1 context queued without EnableVpVtl`)
  }
  // Frozen and shared by every VP given the same context bytes (ports only read a write).
  const write = sharedContextRegisters(record, recordWords)
  const status = engine.ports.vp.writeVtlRegisters(vp.index, vtl, write)
  if (status !== HvStatus.Success) {
    // Keep the context queued (unless someone queued a newer one) so that nothing is lost.
    if (engine.shared.pendingOperation(vp.index, vtl) === PendingOperation.None) {
      engine.shared.setPendingContext(vp.index, vtl, operation, record)
    }
    engine.shared.wake(vp.index, vtl, WakeReason.HvStartEnableVtlVp)
    return [PendingOperation.None, status]
  }
  if (vtl === 1 && operation === PendingOperation.EnableVpVtl && vp.vtl1 === undefined) {
    vp.vtl1 = {
      vpMbecEnabled: false,
      vtl0ExitPendingEvent: undefined,
      regIntercept: { interceptControl: 0n, cr0Mask: 0n, cr4Mask: 0n, ia32MiscEnableMask: 0n },
    }
  }
  // Field by field (Object.assign's generic copy costs more than the decode itself).
  const registers = vp.vtls[vtl].registers
  registers.rip = write.rip
  registers.rsp = write.rsp
  registers.rflags = write.rflags
  registers.cs = write.cs
  registers.ds = write.ds
  registers.es = write.es
  registers.fs = write.fs
  registers.gs = write.gs
  registers.ss = write.ss
  registers.tr = write.tr
  registers.ldtr = write.ldtr
  registers.idtr = write.idtr
  registers.gdtr = write.gdtr
  registers.efer = write.efer
  registers.cr0 = write.cr0
  registers.cr3 = write.cr3
  registers.cr4 = write.cr4
  registers.pat = write.pat
  vp.vtls[vtl].apic.activity = 'running'
  // EnableVpVtl does not change exit_vtl: VTL1 first runs on the next VtlCall or interrupt.
  if (operation === PendingOperation.StartVp && (vtl === 1 || vp.vtl1 !== undefined)) {
    vp.exitVtl = 1
  }
  return [operation, HvStatus.Success]
}

/**
 * The VP's wake handling before its next lower-VTL entry (§2.4): swap both wake words to 0 and
 * handle VTL1 first, then VTL0. Call it on the VP's own thread.
 */
export function handleWake(engine: VsmEngine, vpIndex: number): WakeOutcome {
  const vp = engine.vp(vpIndex)
  const reasons: [number, number] = [
    engine.shared.takeWakeReasons(vpIndex, 0),
    engine.shared.takeWakeReasons(vpIndex, 1),
  ]
  const applied: [PendingOperation, PendingOperation] = [
    PendingOperation.None,
    PendingOperation.None,
  ]
  let status: HvStatus = HvStatus.Success
  for (const vtl of [1, 0] as const) {
    if ((reasons[vtl] & WakeReason.HvStartEnableVtlVp) === 0) continue
    const [operation, result] = applyQueuedContext(engine, vp, vtl)
    applied[vtl] = operation
    if (result !== HvStatus.Success) status = result
  }
  return { reasons, applied, status }
}
