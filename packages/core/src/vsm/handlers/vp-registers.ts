import { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF } from '../../hv/hypercall-code.js'
import { HvStatus } from '../../hv/status.js'
import type { GuestVtl } from '../../hv/vtl.js'
import {
  encodeRegisterValues,
  type GetSetVpRegistersHeader,
  type HvRegisterAssoc,
} from '../../hv/vp-registers.js'
import { resolveInputVtl } from '../../validation/target-vtl.js'
import type { VsmEngine } from '../engine.js'
import { getVpRegister, setVpRegister } from './register-access.js'
import type { RepResult } from './rep-result.js'

type Target = { ok: true; vtl: GuestVtl } | { ok: false; status: HvStatus }

/**
 * The header checks shared by both calls (§13.6): partition → AccessDenied; another VP → AccessDenied
 * for Get, InvalidVpIndex for Set; HvInputVtl parse → InvalidParameter; a target above the caller
 * (`target_vtl_no_higher`) → AccessDenied.
 */
function resolveTarget(
  engine: VsmEngine,
  callerVp: number,
  header: GetSetVpRegistersHeader,
  otherVpStatus: HvStatus
): Target {
  const callerVtl = engine.vp(callerVp).exitVtl
  if (header.partitionId !== HV_PARTITION_ID_SELF)
    return { ok: false, status: HvStatus.AccessDenied }
  if (header.vpIndex !== HV_VP_INDEX_SELF && header.vpIndex !== callerVp) {
    return { ok: false, status: otherVpStatus }
  }
  const parsed = resolveInputVtl(header.targetVtl, callerVtl)
  if (!parsed.ok) return parsed
  if (parsed.vtl > callerVtl) return { ok: false, status: HvStatus.AccessDenied }
  return { ok: true, vtl: parsed.vtl as GuestVtl }
}

/** HvCallGetVpRegisters: one 16-byte value per name; stops at the first failing name. */
export function getVpRegisters(
  engine: VsmEngine,
  callerVp: number,
  header: GetSetVpRegistersHeader,
  names: readonly number[]
): RepResult {
  const target = resolveTarget(engine, callerVp, header, HvStatus.AccessDenied)
  if (!target.ok) return { status: target.status, processed: 0 }
  const callerVtl = engine.vp(callerVp).exitVtl
  const values: bigint[] = []
  let status: HvStatus = HvStatus.Success
  for (const name of names) {
    const read = getVpRegister(engine, callerVp, callerVtl, target.vtl, name)
    if (read.status !== HvStatus.Success) {
      status = read.status
      break
    }
    values.push(read.value)
  }
  return { status, processed: values.length, output: encodeRegisterValues(values) }
}

/** HvCallSetVpRegisters: registers are written in order; the first failure stops the call there. */
export function setVpRegisters(
  engine: VsmEngine,
  callerVp: number,
  header: GetSetVpRegistersHeader,
  registers: readonly HvRegisterAssoc[]
): RepResult {
  const target = resolveTarget(engine, callerVp, header, HvStatus.InvalidVpIndex)
  if (!target.ok) return { status: target.status, processed: 0 }
  const callerVtl = engine.vp(callerVp).exitVtl
  for (let i = 0; i < registers.length; i++) {
    const assoc = registers[i] as HvRegisterAssoc
    const status = setVpRegister(engine, callerVp, callerVtl, target.vtl, assoc.name, assoc.value)
    if (status !== HvStatus.Success) return { status, processed: i }
  }
  return { status: HvStatus.Success, processed: registers.length }
}
