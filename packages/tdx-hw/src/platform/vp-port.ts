import {
  HvStatus,
  VtlError,
  exceptionInjectionWrites,
  type GuestVtl,
  type InjectedException,
  type VpPort,
  type VtlRegisterWrite,
  vmcsWrites,
} from '@vtl/core'
import { RUN_PAGE_BANK_KEYS } from './vmcs-writes.js'
import { checkVp, type HwVpState } from './vp-state.js'

/** What the VP port needs of the platform. */
export interface VpHost {
  readonly cpuCount: number
  vpState(vp: number): HwVpState
  wake(vp: number): void
}

/**
 * `VpPort` on TDX hardware. VMCS-backed registers become TDG.VP.WR on VMCS #1 (VTL0) or #2
 * (VTL1), queued for the VP's pinned thread (the only thread that reaches that vCPU's TDVPS) and
 * applied all-or-nothing before its next entry; run-page registers go to the VTL's bank and are
 * copied into the run page at entry. A value that cannot be encoded is InvalidRegisterValue and
 * nothing is queued.
 */
export class HwVpPort implements VpPort {
  private readonly host: VpHost

  constructor(host: VpHost) {
    this.host = host
  }

  writeVtlRegisters(vp: number, vtl: GuestVtl, registers: VtlRegisterWrite): HvStatus {
    checkVp(vp, this.host.cpuCount)
    const state = this.host.vpState(vp)
    try {
      state.queue(vtl, vmcsWrites(registers))
    } catch (error) {
      if (VtlError.isInstance(error) && error.code !== 'E_INTERNAL') {
        return HvStatus.InvalidRegisterValue
      }
      throw error
    }
    const bank = state.banks[vtl]
    for (const key of RUN_PAGE_BANK_KEYS) {
      const value = registers[key]
      if (value !== undefined) bank[key] = value
    }
    return HvStatus.Success
  }

  wakeVp(vp: number): void {
    checkVp(vp, this.host.cpuCount)
    this.host.wake(vp)
  }

  injectException(vp: number, vtl: GuestVtl, exception: InjectedException): void {
    checkVp(vp, this.host.cpuCount)
    this.host.vpState(vp).queue(vtl, exceptionInjectionWrites(exception))
  }
}
