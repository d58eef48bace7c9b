import { HypercallMsrBits, hypercallPageBytes } from '../hv/hypercall-page.js'
import { HvMapGpaFlags } from '../hv/map-gpa-flags.js'
import type { GuestVtl } from '../hv/vtl.js'
import type { VsmEngine } from './engine.js'
import { moveOverlay } from './overlay-pages.js'
import type { VsmVp } from './vp.js'

const R = HvMapGpaFlags.Readable
const W = HvMapGpaFlags.Writable
/** While mapped the VTL may read and execute the page, not write it. */
const CODE_PERMS = R | HvMapGpaFlags.KernelExecutable | HvMapGpaFlags.UserExecutable

/** The GPA of the page the MSR maps, or undefined while disabled. */
function pageOf(msr: bigint): bigint | undefined {
  return (msr & HypercallMsrBits.enable) === 0n ? undefined : msr & HypercallMsrBits.gpn
}

/**
 * A WRMSR of `HV_X64_MSR_HYPERCALL` by `vtl` (`msr_write_hypercall_page`); false is #GP and changes
 * nothing. Refused: a locked MSR, reserved bits 11:2, and a page that cannot be registered as the
 * VTL's overlay (`check_modify_and_lock_overlay_page`: RAM the VTL may read and write, not locked,
 * not host-visible). Enabling at a new GPN locks it, makes it read/execute-only for the VTL, fills
 * it with the stubs (`hypercallPageBytes`) and only then releases the previous page; disabling
 * releases it. Unlike the other overlays nothing is copied back: the page is the paravisor's code,
 * and RAM keeps it. The locked bit, once set, refuses every later write.
 */
export function writeHypercallMsr(
  engine: VsmEngine,
  vp: VsmVp,
  vtl: GuestVtl,
  value: bigint
): boolean {
  const state = vp.vtls[vtl]
  const before = state.hypercallMsr
  if ((before & HypercallMsrBits.locked) !== 0n) return false
  if ((value & HypercallMsrBits.reserved) !== 0n) return false
  const memory = engine.ports.guestMemory
  if (memory !== undefined) {
    const from = pageOf(before)
    const to = pageOf(value)
    if (!moveOverlay(engine, vtl, from, to, { check: R | W, perms: CODE_PERMS })) return false
    if (to !== undefined && to !== from) memory.write(to, hypercallPageBytes())
  }
  state.hypercallMsr = value
  return true
}
