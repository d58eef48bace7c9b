import { VtlError } from '../errors/vtl-error.js'
import { HV_MAP_GPA_PERMISSIONS_ALL } from '../hv/map-gpa-flags.js'
import type { GuestVtl } from '../hv/vtl.js'
import { XSS_VALID } from '../x86/register-bits.js'
import { DEFAULT_VMX_FIXED_BITS, type VmxFixedBits } from './initial-context-check.js'
import type { GuestMemoryPort, HypervisorPort, VpPort } from './ports.js'
import type { ProtectionPort } from './protection-port.js'
import {
  GuestVsmState,
  PartitionField,
  PlainSharedVsmState,
  type SharedVsmState,
} from './shared-state.js'
import { SWITCH_EXITS, type SwitchExits } from './loop/switch-exits.js'
import { VsmVp } from './vp.js'

export interface VsmPorts {
  hypervisor: HypervisorPort
  vp: VpPort
  protection: ProtectionPort
  /** Guest RAM, for the overlay pages (§13.14); without it they stay private. */
  guestMemory?: GuestMemoryPort
}

export interface VsmEngineOptions {
  vpCount: number
  ports: VsmPorts
  /** The partition's `access_vsm` privilege at creation (default true). */
  accessVsmPrivilege?: boolean
  /** `HvRegisterGuestVsmPartitionConfig.maximum_vtl` the hypervisor reports (default 1). */
  hypervisorMaximumVtl?: number
  /** The kernel reports DR6 as shared (`VsmCapabilities.dr6_shared`; default false). */
  dr6Shared?: boolean
  /** The modelled CPU's CR4_FIXED1, which bounds a lower VTL's CR4 (§13.11). */
  fixedBits?: Partial<VmxFixedBits>
  /** The IA32_XSS bits the modelled CPU's XSAVE supports (default PASID, CET_U, CET_S). */
  xssSupported?: bigint
  /** Cross-VP state; a SharedArrayBuffer-backed one for multi-threaded hosts. Default: plain. */
  shared?: SharedVsmState
  /**
   * Write the initial partition words and VP 0's `started` flag (default true). A second engine
   * attached to already initialised shared state (another worker thread) passes false.
   */
  initializeShared?: boolean
}

/**
 * The paravisor's VSM logic for one partition: pure state plus handlers, every effect through the
 * ports. Hosts (the simulator, the hardware backend) drive it with `dispatchHypercall`,
 * `handleWake` and `prepareEntry`, one VP thread at a time per VP.
 */
export class VsmEngine {
  readonly vpCount: number
  readonly ports: VsmPorts
  readonly shared: SharedVsmState
  readonly vps: readonly VsmVp[]
  readonly accessVsmPrivilege: boolean
  readonly hypervisorMaximumVtl: number
  readonly dr6Shared: boolean
  readonly fixedBits: VmxFixedBits
  readonly xssSupported: bigint
  /** The loop's last VTL-switch exits (`handleVmcall`); internal. */
  readonly [SWITCH_EXITS]: SwitchExits = [undefined, undefined]

  constructor(options: VsmEngineOptions) {
    this.vpCount = options.vpCount
    this.ports = options.ports
    this.shared = options.shared ?? new PlainSharedVsmState(options.vpCount)
    if (this.shared.vpCount !== this.vpCount) {
      throw new VtlError('E_INVARIANT', 'shared state VP count differs from the engine', {
        field: 'shared',
      })
    }
    this.accessVsmPrivilege = options.accessVsmPrivilege ?? true
    this.hypervisorMaximumVtl = options.hypervisorMaximumVtl ?? 1
    this.dr6Shared = options.dr6Shared ?? false
    this.fixedBits = { ...DEFAULT_VMX_FIXED_BITS, ...options.fixedBits }
    this.xssSupported = (options.xssSupported ?? XSS_VALID) & XSS_VALID
    const vps: VsmVp[] = []
    for (let index = 0; index < this.vpCount; index++) vps.push(new VsmVp(index))
    this.vps = vps

    if (options.initializeShared === false) return
    // `from_availability` (check_guest_vsm_support, §2.1).
    const available = this.accessVsmPrivilege && this.hypervisorMaximumVtl >= 1
    this.shared.setPartitionField(
      PartitionField.GuestVsmState,
      available ? GuestVsmState.NotGuestEnabled : GuestVsmState.NotPlatformSupported
    )
    this.shared.setPartitionField(PartitionField.DefaultVtl0Protections, HV_MAP_GPA_PERMISSIONS_ALL)
    // Only the BSP counts as started at creation (§13.7).
    this.shared.compareExchangeStarted(0, false, true)
  }

  vp(index: number): VsmVp {
    // The throw is built apart: a small lookup inlines into every caller.
    return this.vps[index] ?? vpOutOfRange(index, this.vpCount)
  }

  get guestVsmState(): GuestVsmState {
    return this.shared.partitionField(PartitionField.GuestVsmState) as GuestVsmState
  }

  field(field: PartitionField): number {
    return this.shared.partitionField(field)
  }

  flag(field: PartitionField): boolean {
    return this.shared.partitionField(field) !== 0
  }

  /** The VTL the VP is currently executing for (the caller of a hypercall it issues). */
  currentVtl(vp: number): GuestVtl {
    return this.vp(vp).exitVtl
  }

  /**
   * `revoke_guest_vsm` (§2.1): a non-VSM-aware loader makes the platform's VSM unavailable. Fails
   * (false) once VSM is Enabled.
   */
  revokeGuestVsm(): boolean {
    this.shared.lockPartition()
    try {
      if (this.guestVsmState === GuestVsmState.Enabled) return false
      this.shared.setPartitionField(
        PartitionField.GuestVsmState,
        GuestVsmState.NotPlatformSupported
      )
      return true
    } finally {
      this.shared.unlockPartition()
    }
  }
}

function vpOutOfRange(index: number, vpCount: number): never {
  throw new VtlError('E_FIELD_RANGE', `VP ${index} outside 0..${vpCount - 1}`, { field: 'vp' })
}
