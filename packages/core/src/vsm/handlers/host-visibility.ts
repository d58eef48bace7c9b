import {
  encodeModifySparseGpaPageHostVisibility,
  HostVisibility,
  type ModifySparseGpaPageHostVisibilityHeader,
  type QuerySparseGpaPageHostVisibilityHeader,
} from '../../hv/host-visibility.js'
import { HypercallCode, HV_PARTITION_ID_SELF } from '../../hv/hypercall-code.js'
import { HvStatus } from '../../hv/status.js'
import { VtlError } from '../../errors/vtl-error.js'
import type { GuestVtl } from '../../hv/vtl.js'
import type { VsmEngine } from '../engine.js'
import { forwardHypercall } from '../host-forward.js'
import type { RepResult } from './rep-result.js'

function tellHost(
  engine: VsmEngine,
  gpns: readonly bigint[],
  shared: boolean
): { status: HvStatus; done: number } {
  if (gpns.length === 0) return { status: HvStatus.Success, done: 0 }
  const input = encodeModifySparseGpaPageHostVisibility(
    {
      partitionId: HV_PARTITION_ID_SELF,
      hostVisibility: shared ? HostVisibility.ReadWrite : HostVisibility.Private,
    },
    gpns
  )
  const host = forwardHypercall(
    engine.ports.hypervisor,
    HypercallCode.ModifySparseGpaPageHostVisibility,
    input,
    gpns.length
  )
  const done =
    host.status === HvStatus.Success ? gpns.length : Math.min(host.repsCompleted, gpns.length)
  return { status: host.status, done }
}

/**
 * HvCallModifySparseGpaPageHostVisibility (§5.6, §13.9). The memory side (RAM, locked, overlay
 * and "VTL0 may share only what VTL1 left R+W" rules) is the ProtectionPort's; VTL2 then tells the
 * hypervisor itself. Private→shared: memory first, then the host; shared→private: the host first,
 * then memory. A host failure on private→shared is a typed panic, as OpenHCL panics there: there
 * is no safe rollback (making the pages private again gives them the default protections, not the
 * ones VTL1 had set — the faults campaign found VTL0 gaining execute that way).
 */
export function modifySparseGpaPageHostVisibility(
  engine: VsmEngine,
  callerVp: number,
  header: ModifySparseGpaPageHostVisibilityHeader,
  gpns: readonly bigint[]
): RepResult {
  const callerVtl: GuestVtl = engine.vp(callerVp).exitVtl
  if (header.partitionId !== HV_PARTITION_ID_SELF) {
    return { status: HvStatus.AccessDenied, processed: 0 }
  }
  let shared: boolean
  if (header.hostVisibility === HostVisibility.Private) shared = false
  else if (header.hostVisibility === HostVisibility.ReadWrite) shared = true
  else return { status: HvStatus.InvalidParameter, processed: 0 }
  const { protection } = engine.ports

  if (shared) {
    const memory = protection.changeHostVisibility(callerVtl, gpns, true)
    const taken = gpns.slice(0, memory.processed)
    const host = tellHost(engine, taken, true)
    if (host.status !== HvStatus.Success) {
      throw new VtlError(
        'E_HV_STATUS',
        `the host refused a private→shared change (${host.status}) after ${host.done} pages`,
        { field: 'hostVisibility' }
      )
    }
    return { status: memory.status, processed: memory.processed }
  }

  const host = tellHost(engine, gpns, false)
  const flipped = gpns.slice(0, host.done)
  const memory = protection.changeHostVisibility(callerVtl, flipped, false)
  if (memory.processed < flipped.length) {
    // Roll back the pages memory did not take (§5.6: "rolls back the pages that were not processed").
    tellHost(engine, flipped.slice(memory.processed), true)
    return { status: memory.status, processed: memory.processed }
  }
  return { status: host.status, processed: host.done }
}

/** HvCallQuerySparseGpaPageHostVisibility: one HostVisibilityType byte per GPN. */
export function querySparseGpaPageHostVisibility(
  engine: VsmEngine,
  header: QuerySparseGpaPageHostVisibilityHeader,
  gpns: readonly bigint[]
): RepResult {
  if (header.partitionId !== HV_PARTITION_ID_SELF) {
    return { status: HvStatus.AccessDenied, processed: 0 }
  }
  const answer = engine.ports.protection.queryHostVisibility(gpns)
  // §13.17: the failing GPN's index is reported (the dispatcher adds the rep start).
  if (answer.status !== HvStatus.Success) {
    return { status: answer.status, processed: answer.shared.length }
  }
  const output = new Uint8Array(gpns.length)
  for (let i = 0; i < gpns.length; i++) {
    output[i] = answer.shared[i] === true ? HostVisibility.ReadWrite : HostVisibility.Private
  }
  return { status: HvStatus.Success, processed: gpns.length, output }
}
