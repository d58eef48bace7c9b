import { HvRegisterName } from '../../hv/register-name.js'
import {
  segmentRegisterFromValue,
  segmentRegisterToValue,
  tableRegisterFromValue,
  tableRegisterToValue,
} from '../../hv/segment-register.js'
import { HvStatus } from '../../hv/status.js'
import type { GuestVtl } from '../../hv/vtl.js'
import {
  encodeVsmCapabilities,
  encodeVsmCodePageOffsets,
  encodeVsmPartitionStatus,
  encodeVsmVpSecureVtlConfig,
  encodeVsmVpStatus,
  VsmVinaCodec,
  VsmVpSecureVtlConfigCodec,
  VSM_CODE_PAGE_OFFSETS_X64,
} from '../../hv/vsm-registers.js'
import type { VsmEngine } from '../engine.js'
import { writeOverlayMsr } from '../overlay-pages.js'
import type { PrivateRegisters, SharedRegisters } from '../registers.js'
import { GuestVsmState, PartitionField } from '../shared-state.js'
import type { VsmVp } from '../vp.js'
import { validateSetVpRegisterValue } from './register-value-rules.js'
import {
  checkVsmPartitionConfigAccess,
  getVsmPartitionConfig,
  setVsmPartitionConfig,
} from './vsm-partition-config.js'

const R = HvRegisterName
const U64 = 0xffff_ffff_ffff_ffffn

/** A register read: a status, and the 128-bit value when it is Success. */
export interface RegisterRead {
  status: HvStatus
  value: bigint
}

type PrivateU64 = {
  [K in keyof PrivateRegisters]: PrivateRegisters[K] extends bigint ? K : never
}[keyof PrivateRegisters]
type Segment = 'cs' | 'ds' | 'es' | 'fs' | 'gs' | 'ss' | 'tr' | 'ldtr'

/** Per-VTL 64-bit registers, and whether SetVpRegisters may write them (§13.6). */
const PRIVATE_U64 = new Map<number, [PrivateU64, boolean]>([
  [R.Rip, ['rip', true]],
  [R.Rsp, ['rsp', true]],
  [R.Rflags, ['rflags', true]],
  [R.Cr0, ['cr0', true]],
  [R.Cr3, ['cr3', false]],
  [R.Cr4, ['cr4', true]],
  [R.Cr8, ['cr8', true]],
  [R.Efer, ['efer', true]],
  [R.Pat, ['pat', true]],
  [R.Dr7, ['dr7', true]],
  [R.KernelGsBase, ['kernelGsBase', false]],
  [R.Star, ['star', true]],
  [R.Lstar, ['lstar', true]],
  [R.Cstar, ['cstar', true]],
  [R.Sfmask, ['sfmask', true]],
  [R.SysenterCs, ['sysenterCs', true]],
  [R.SysenterEip, ['sysenterEip', true]],
  [R.SysenterEsp, ['sysenterEsp', true]],
  [R.TscAux, ['tscAux', true]],
])

/** Segments: only LDTR is writable (TR and the others fail with InvalidParameter, §13.6). */
const SEGMENTS = new Map<number, [Segment, boolean]>([
  [R.Es, ['es', false]],
  [R.Cs, ['cs', false]],
  [R.Ss, ['ss', false]],
  [R.Ds, ['ds', false]],
  [R.Fs, ['fs', false]],
  [R.Gs, ['gs', false]],
  [R.Tr, ['tr', false]],
  [R.Ldtr, ['ldtr', true]],
])

/** Shared by the VTLs on TDX; only DR3 may be set. */
const SHARED = new Map<number, [keyof SharedRegisters, boolean]>([
  [R.Rax, ['rax', false]],
  [R.Rcx, ['rcx', false]],
  [R.Rdx, ['rdx', false]],
  [R.Rbx, ['rbx', false]],
  [R.Rbp, ['rbp', false]],
  [R.Rsi, ['rsi', false]],
  [R.Rdi, ['rdi', false]],
  [R.R8, ['r8', false]],
  [R.R9, ['r9', false]],
  [R.R10, ['r10', false]],
  [R.R11, ['r11', false]],
  [R.R12, ['r12', false]],
  [R.R13, ['r13', false]],
  [R.R14, ['r14', false]],
  [R.R15, ['r15', false]],
  [R.Cr2, ['cr2', false]],
  [R.Dr0, ['dr0', false]],
  [R.Dr1, ['dr1', false]],
  [R.Dr2, ['dr2', false]],
  [R.Dr3, ['dr3', true]],
  [R.Xfem, ['xfem', false]],
])

function isArchitectural(name: number): boolean {
  return (
    PRIVATE_U64.has(name) ||
    SEGMENTS.has(name) ||
    SHARED.has(name) ||
    name === R.Idtr ||
    name === R.Gdtr
  )
}

/**
 * `validate_register_access`: a VTL reaches a lower VTL's architectural registers only (its own or
 * a higher VTL's → AccessDenied); PendingEvent0 needs a target below the caller (InvalidParameter).
 */
function validateAccess(callerVtl: GuestVtl, targetVtl: GuestVtl, name: number): HvStatus {
  if (isArchitectural(name) && targetVtl >= callerVtl) return HvStatus.AccessDenied
  if (name === R.PendingEvent0 && targetVtl >= callerVtl) return HvStatus.InvalidParameter
  return HvStatus.Success
}

const ok = (value: bigint): RegisterRead => ({ status: HvStatus.Success, value })
const fail = (status: HvStatus): RegisterRead => ({ status, value: 0n })

/** IA32_APIC_BASE as the VP reports it. */
export function apicBase(vp: VsmVp): bigint {
  // xAPIC at 0xFEE00000, enabled (bit 11), BSP flag (bit 8) on VP 0.
  return 0xfee0_0000n | 0x800n | (vp.index === 0 ? 0x100n : 0n)
}

function partitionStatus(engine: VsmEngine): bigint {
  const state = engine.guestVsmState
  if (state === GuestVsmState.NotPlatformSupported)
    return encodeVsmPartitionStatus({ enabledVtlSet: 1 })
  if (state === GuestVsmState.NotGuestEnabled) {
    return encodeVsmPartitionStatus({ enabledVtlSet: 1, maximumVtl: 1 })
  }
  const mbec = engine.flag(PartitionField.MbecEnabled)
  return encodeVsmPartitionStatus({
    enabledVtlSet: 3,
    maximumVtl: 1,
    mbecEnabledVtlSet: mbec ? 3 : 0,
  })
}

/** VsmVpSecureConfigVtl0's requester is the hypercall's target VTL (§13.5). */
function secureConfigAccess(engine: VsmEngine, requester: GuestVtl): HvStatus {
  if (requester <= 0) return HvStatus.AccessDenied
  if (engine.guestVsmState !== GuestVsmState.Enabled) return HvStatus.InvalidVtlState
  return HvStatus.Success
}

/** One register of GetVpRegisters on a hardware CVM (§8, §13.5, §13.6). */
export function getVpRegister(
  engine: VsmEngine,
  vpIndex: number,
  callerVtl: GuestVtl,
  targetVtl: GuestVtl,
  name: number
): RegisterRead {
  const access = validateAccess(callerVtl, targetVtl, name)
  if (access !== HvStatus.Success) return fail(access)
  const vp = engine.vp(vpIndex)
  const vtl = vp.vtls[targetVtl]
  const priv = PRIVATE_U64.get(name)
  if (priv !== undefined) return ok(vtl.registers[priv[0]])
  const segment = SEGMENTS.get(name)
  if (segment !== undefined) return ok(segmentRegisterToValue(vtl.registers[segment[0]]))
  const shared = SHARED.get(name)
  if (shared !== undefined) return ok(vp.shared[shared[0]])
  if (name >= R.Sint0 && name <= R.Sint15) return ok(vtl.synic.sint[name - R.Sint0] ?? 0n)
  switch (name) {
    case R.Idtr:
      return ok(tableRegisterToValue(vtl.registers.idtr))
    case R.Gdtr:
      return ok(tableRegisterToValue(vtl.registers.gdtr))
    case R.VsmCodePageOffsets:
      // The CVM path always reports the 64-bit stub offsets (§7.1).
      return ok(encodeVsmCodePageOffsets(VSM_CODE_PAGE_OFFSETS_X64))
    case R.VsmCapabilities:
      return ok(
        encodeVsmCapabilities({
          dr6Shared: engine.dr6Shared,
          mbecVtlMask: 1,
          denyLowerVtlStartup: true,
        })
      )
    case R.VsmVpStatus: {
      if (callerVtl === 0 && !engine.accessVsmPrivilege) return fail(HvStatus.AccessDenied)
      return ok(
        encodeVsmVpStatus({
          activeVtl: callerVtl,
          activeMbecEnabled: vp.vtl1?.vpMbecEnabled ?? false,
          enabledVtlSet: engine.shared.vtl1EnableCalled(vpIndex) ? 3 : 1,
        })
      )
    }
    case R.VsmPartitionStatus:
      return ok(partitionStatus(engine))
    case R.VsmPartitionConfig: {
      const status = checkVsmPartitionConfigAccess(engine, callerVtl, targetVtl)
      return status === HvStatus.Success ? ok(getVsmPartitionConfig(engine)) : fail(status)
    }
    case R.VsmVina:
      return targetVtl === 1 ? ok(vtl.synic.vina) : fail(HvStatus.InvalidParameter)
    case R.VsmVpSecureConfigVtl0: {
      const status = secureConfigAccess(engine, targetVtl)
      if (status !== HvStatus.Success) return fail(status)
      return ok(
        encodeVsmVpSecureVtlConfig({
          mbecEnabled: engine.flag(PartitionField.MbecEnabled),
          tlbLocked: engine.shared.tlbLocked(vpIndex, 0),
        })
      )
    }
    case R.VpAssistPage:
      return ok(vtl.vpAssistPage)
    case R.ApicBase:
      return ok(apicBase(vp))
    case R.Scontrol:
      return ok(vtl.synic.scontrol)
    case R.Sversion:
      return ok(1n)
    case R.Siefp:
      return ok(vtl.synic.siefp)
    case R.Simp:
      return ok(vtl.synic.simp)
    case R.Eom:
      return ok(0n)
    case R.PendingEvent0:
      return ok(vp.vtl1?.vtl0ExitPendingEvent ?? 0n)
    case R.CrInterceptControl:
    case R.CrInterceptCr0Mask:
    case R.CrInterceptCr4Mask:
    case R.CrInterceptIa32MiscEnableMask: {
      if (targetVtl !== 1) return fail(HvStatus.AccessDenied)
      // VTL1 running but not Active (the StartVp-over-EnableVpVtl overwrite, §13.17).
      const state = vp.vtl1?.regIntercept
      if (state === undefined) return fail(HvStatus.InvalidVtlState)
      if (name === R.CrInterceptControl) return ok(state.interceptControl)
      if (name === R.CrInterceptCr0Mask) return ok(state.cr0Mask)
      if (name === R.CrInterceptCr4Mask) return ok(state.cr4Mask)
      return ok(state.ia32MiscEnableMask)
    }
    default:
      return fail(HvStatus.InvalidParameter)
  }
}

/**
 * `HvRegisterCrInterceptControl` bits a CVM intercepts: every write (CR0, CR4, XCR0, MISC_ENABLE,
 * LSTAR, STAR, CSTAR, APIC_BASE, EFER, GDTR, IDTR, LDTR, TR, SYSENTER_*, SFMASK, TSC_AUX, and bits
 * 25–28: XSS, S_CET, PLx_SSP, ISST) but no reads and not SGX launch control (bit 24).
 */
const SUPPORTED_CR_INTERCEPTS = 0x1eff_d557n

/** Exceptions VTL1 may queue for VTL0, and those of them that carry an error code. */
const PENDING_EVENT_VECTORS = new Set([
  0, 1, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 16, 17, 18, 19, 21,
])
const ERROR_CODE_VECTORS = new Set([8, 10, 11, 12, 13, 14, 17, 21])

/** `set_vtl0_pending_event`: `HvX64PendingExceptionEvent` (pending 0, type 3:1, error code 8, vector 31:16). */
function setPendingEvent0(vp: VsmVp, value: bigint): HvStatus {
  // Deviation (§13.17): OpenHCL panics here without an Active VTL1; we answer InvalidVtlState.
  if (vp.vtl1 === undefined) return HvStatus.InvalidVtlState
  let event: bigint | undefined
  if ((value & 1n) !== 0n) {
    if (((value >> 1n) & 7n) !== 0n) return HvStatus.InvalidRegisterValue
    const vector = Number((value >> 16n) & 0xffffn)
    if (!PENDING_EVENT_VECTORS.has(vector)) return HvStatus.InvalidRegisterValue
    if ((value & (1n << 8n)) !== 0n && !ERROR_CODE_VECTORS.has(vector)) {
      return HvStatus.InvalidRegisterValue
    }
    event = value
  }
  vp.vtl1.vtl0ExitPendingEvent = event
  return HvStatus.Success
}

/** One register of SetVpRegisters on a hardware CVM (§5.5, §8, §13.5, §13.6, §13.13). */
export function setVpRegister(
  engine: VsmEngine,
  vpIndex: number,
  callerVtl: GuestVtl,
  targetVtl: GuestVtl,
  name: number,
  requested: bigint
): HvStatus {
  const access = validateAccess(callerVtl, targetVtl, name)
  if (access !== HvStatus.Success) return access
  const vp = engine.vp(vpIndex)
  const vtl = vp.vtls[targetVtl]
  const checked = validateSetVpRegisterValue(name, requested, vtl, engine.xssSupported)
  if (!checked.ok) return checked.status
  const value = checked.value
  const low = value & U64
  const priv = PRIVATE_U64.get(name)
  if (priv !== undefined) {
    if (!priv[1]) return HvStatus.InvalidParameter
    return writeRegisters(engine, vp, targetVtl, { [priv[0]]: low })
  }
  const segment = SEGMENTS.get(name)
  if (segment !== undefined) {
    if (!segment[1]) return HvStatus.InvalidParameter
    return writeRegisters(engine, vp, targetVtl, { [segment[0]]: segmentRegisterFromValue(value) })
  }
  const shared = SHARED.get(name)
  if (shared !== undefined) {
    if (!shared[1]) return HvStatus.InvalidParameter
    vp.shared[shared[0]] = low
    return HvStatus.Success
  }
  if (name >= R.Sint0 && name <= R.Sint15) {
    vtl.synic.sint[name - R.Sint0] = low
    return HvStatus.Success
  }
  switch (name) {
    case R.Idtr:
      return writeRegisters(engine, vp, targetVtl, { idtr: tableRegisterFromValue(value) })
    case R.Gdtr:
      return writeRegisters(engine, vp, targetVtl, { gdtr: tableRegisterFromValue(value) })
    case R.VsmPartitionConfig: {
      const status = checkVsmPartitionConfigAccess(engine, callerVtl, targetVtl)
      return status === HvStatus.Success ? setVsmPartitionConfig(engine, low) : status
    }
    case R.VsmVpSecureConfigVtl0: {
      const status = secureConfigAccess(engine, targetVtl)
      if (status !== HvStatus.Success) return status
      const config = VsmVpSecureVtlConfigCodec.decode(low)
      if (config.supervisorShadowStackEnabled || config.hardwareHvptEnabled) {
        return HvStatus.InvalidRegisterValue
      }
      // MBEC is partition-wide: the per-VP bit must match.
      if (config.mbecEnabled !== engine.flag(PartitionField.MbecEnabled)) {
        return HvStatus.InvalidRegisterValue
      }
      if (vp.vtl1 !== undefined) vp.vtl1.vpMbecEnabled = config.mbecEnabled
      engine.shared.setTlbLocked(vpIndex, 0, config.tlbLocked)
      return HvStatus.Success
    }
    case R.VsmVina:
      if (targetVtl !== 1) return HvStatus.InvalidParameter
      // §13.17: the SynIC's `write_reg` refuses reserved bits with InvalidParameter.
      if ((low & VsmVinaCodec.reservedMask) !== 0n) return HvStatus.InvalidParameter
      vtl.synic.vina = low
      return HvStatus.Success
    case R.VpAssistPage:
      // Bits 11:1 are reserved (`msr_write_vp_assist_page`).
      if ((low & 0xffen) !== 0n) return HvStatus.InvalidRegisterValue
      return writeOverlayMsr(engine, vp, targetVtl, 'assist', low)
    case R.ApicBase:
      return low === apicBase(vp) ? HvStatus.Success : HvStatus.InvalidParameter
    case R.Scontrol:
      vtl.synic.scontrol = low
      return HvStatus.Success
    case R.Siefp:
      return writeOverlayMsr(engine, vp, targetVtl, 'siefp', low)
    case R.Simp:
      return writeOverlayMsr(engine, vp, targetVtl, 'simp', low)
    case R.Eom:
      return HvStatus.Success
    case R.PendingEvent0:
      // Only VTL0 can receive an event from this register.
      if (targetVtl !== 0) return HvStatus.AccessDenied
      return setPendingEvent0(vp, value)
    case R.CrInterceptControl:
    case R.CrInterceptCr0Mask:
    case R.CrInterceptCr4Mask:
    case R.CrInterceptIa32MiscEnableMask: {
      if (targetVtl !== 1) return HvStatus.AccessDenied
      const state = vp.vtl1?.regIntercept
      // Deviation (§13.17): OpenHCL panics on a CrInterceptControl write without an Active VTL1;
      // we refuse it like the mask writes.
      if (state === undefined) return HvStatus.InvalidVtlState
      if (name === R.CrInterceptControl && (low & ~SUPPORTED_CR_INTERCEPTS) !== 0n) {
        return HvStatus.InvalidRegisterValue
      }
      if (name === R.CrInterceptControl) state.interceptControl = low
      else if (name === R.CrInterceptCr0Mask) state.cr0Mask = low
      else if (name === R.CrInterceptCr4Mask) state.cr4Mask = low
      else state.ia32MiscEnableMask = low
      return HvStatus.Success
    }
    default:
      return HvStatus.InvalidParameter
  }
}

/** Through the VpPort first (VMCS state on TDX), then the engine's bank; a port error changes nothing. */
export function writeRegisters(
  engine: VsmEngine,
  vp: VsmVp,
  vtl: GuestVtl,
  write: Partial<PrivateRegisters>
): HvStatus {
  const status = engine.ports.vp.writeVtlRegisters(vp.index, vtl, write)
  if (status !== HvStatus.Success) return status
  Object.assign(vp.vtls[vtl].registers, write)
  return HvStatus.Success
}
