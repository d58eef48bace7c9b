import type { GuestVtl } from '../hv/vtl.js'
import { Rflags } from '../x86/register-bits.js'
import type { VsmEngine } from './engine.js'
import type { InjectedException } from './ports.js'
import { VtlEntryReason } from '../hv/vp-assist-page.js'
import { raiseVtl } from './handlers/vtl-switch.js'
import { setVinaStatus, vinaStatus } from './overlay-pages.js'
import { ACTIVE_VTL_PARAVISOR } from './shared-state.js'
import type { VsmVp } from './vp.js'
import { handleWake, type WakeOutcome } from './wake.js'

const VINA_ENABLED = 1n << 8n

/**
 * An interrupt of high enough priority (or an NMI) waits for `vtl`. Preemption of VTL0 by VTL1
 * ignores RFLAGS.IF; injection honours it (§7.4, §13.2). An STI/MOV SS shadow blocks both.
 */
export function isInterruptPending(vp: VsmVp, vtl: GuestVtl, checkIf: boolean): boolean {
  const state = vp.vtls[vtl]
  if (state.interruptShadow) return false
  if (!state.apic.hasDeliverable()) return false
  return !checkIf || state.apic.nmiPending || (state.registers.rflags & Rflags.IF) !== 0n
}

/**
 * `cvm_handle_cross_vtl_interrupts` (§7.4): nothing until VTL1 is Active on the VP; then VTL1
 * preempts VTL0 (entry reason INTERRUPT), and a VTL0 interrupt waiting while VTL1 runs asserts
 * VINA once. Returns true when VINA was asserted (the interrupt scan must run again).
 */
export function handleCrossVtlInterrupts(engine: VsmEngine, vpIndex: number): boolean {
  const vp = engine.vp(vpIndex)
  if (vp.vtl1 === undefined) return false
  if (vp.exitVtl === 0 && isInterruptPending(vp, 1, false)) {
    raiseVtl(engine, vpIndex, VtlEntryReason.Interrupt)
  }
  const vtl1 = vp.vtls[1]
  if (
    vp.exitVtl === 1 &&
    isInterruptPending(vp, 0, true) &&
    (vtl1.synic.vina & VINA_ENABLED) !== 0n &&
    vinaStatus(engine, vp) === 0
  ) {
    setVinaStatus(engine, vp, 1)
    vtl1.apic.request(Number(vtl1.synic.vina & 0xffn))
    return true
  }
  return false
}

/**
 * Request `vector` in `vtl`'s APIC on `vp`, on that VP's own thread (a device, timer or the host
 * asserting it). From another VP's thread use `SharedVsmState.requestInterrupt` and a wake.
 */
export function assertInterrupt(
  engine: VsmEngine,
  vpIndex: number,
  vtl: GuestVtl,
  vector: number
): void {
  engine.vp(vpIndex).vtls[vtl].apic.request(vector & 0xff)
}

/** An EOI from `vtl`: the highest in-service vector retires (§13.12). Returns it, or -1. */
export function endOfInterrupt(engine: VsmEngine, vpIndex: number, vtl: GuestVtl): number {
  return engine.vp(vpIndex).vtls[vtl].apic.eoi()
}

const CONTRIBUTORY = new Set([0, 10, 11, 12, 13, 21])
const PAGE_FAULT = 14
const DOUBLE_FAULT = 8

/**
 * The exception VTL0 gets when VTL1's PendingEvent0 meets an exception already pending for VTL0
 * (`cvm_deliver_exit_pending_event`): #DF (error code 0) for #PF + #PF, #PF + contributory, or
 * contributory + contributory; otherwise the queued event as is.
 */
export function combinePendingEvent(
  event: bigint,
  pendingVector: number | undefined
): InjectedException {
  const vector = Number((event >> 16n) & 0xffffn)
  const withCode = (event & (1n << 8n)) !== 0n
  const queued: InjectedException = withCode
    ? { vector, errorCode: Number((event >> 32n) & 0xffff_ffffn) }
    : { vector }
  if (pendingVector === undefined || vector > 21) return queued
  const doubleFault =
    pendingVector === PAGE_FAULT
      ? vector === PAGE_FAULT || CONTRIBUTORY.has(vector)
      : CONTRIBUTORY.has(pendingVector) && CONTRIBUTORY.has(vector)
  return doubleFault ? { vector: DOUBLE_FAULT, errorCode: 0 } : queued
}

/** What the host must do to enter the VP's lower VTL. */
export interface EntryPlan {
  /** The VTL to run (`exit_vtl`): VMCS/L2 VM #(vtl + 1). */
  vtl: GuestVtl
  /** A vector to inject now (it moved to in-service), or -1. */
  vector: number
  wake: WakeOutcome
}

/**
 * Everything the run loop does before a lower-VTL entry (§2.4, §6.4, §7.4): handle the wake words
 * (VTL1 first), the cross-VTL interrupt rules, deliver VTL1's PendingEvent0 when VTL0 runs next
 * (combined into #DF with `vtl0PendingException`, an exception the host already has pending),
 * pick the vector to inject (IF honoured) and publish `active_vtl`.
 */
export function prepareEntry(
  engine: VsmEngine,
  vpIndex: number,
  options: { vtl0PendingException?: number } = {}
): EntryPlan {
  const wake = handleWake(engine, vpIndex)
  const vp = engine.vp(vpIndex)
  // Interrupts other VPs requested (IPIs) join this VP's own LAPICs.
  engine.shared.takeRequestedInterrupts(vpIndex, 0, vp.vtls[0].apic.irr)
  engine.shared.takeRequestedInterrupts(vpIndex, 1, vp.vtls[1].apic.irr)
  if (handleCrossVtlInterrupts(engine, vpIndex)) handleCrossVtlInterrupts(engine, vpIndex)
  const vtl = vp.exitVtl
  const pending = vp.vtl1?.vtl0ExitPendingEvent
  if (vtl === 0 && vp.vtl1 !== undefined && pending !== undefined) {
    engine.ports.vp.injectException(
      vpIndex,
      0,
      combinePendingEvent(pending, options.vtl0PendingException)
    )
    vp.vtl1.vtl0ExitPendingEvent = undefined
    vp.vtls[0].apic.activity = 'running'
  }
  let vector = -1
  if (isInterruptPending(vp, vtl, true)) {
    const apic = vp.vtls[vtl].apic
    if (apic.nmiPending) {
      apic.nmiPending = false
      vector = 2
    } else {
      vector = apic.accept()
    }
  }
  engine.shared.setActiveVtl(vpIndex, vtl)
  return { vtl, vector, wake }
}

/** The VP left its lower VTL (§6.4 step 6): `active_vtl = 2` until the next entry. */
export function exitToParavisor(engine: VsmEngine, vpIndex: number): void {
  // The literal (checked against the constant): no import lookup on every exit.
  engine.shared.setActiveVtl(vpIndex, 2 satisfies typeof ACTIVE_VTL_PARAVISOR)
}
