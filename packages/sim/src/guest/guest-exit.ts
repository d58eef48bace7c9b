import { VmxExitBasic, classifyGpa, type GuestVtl } from '@vtl/core'
import type { GuestAction } from '../scenario/types.js'
import type { VpEnterExit } from '../tdx-module/types.js'
import { findAccessFault, type AccessPlatform } from './access.js'
import { instructionExit } from './instruction.js'
import type { MemoryContents } from './memory-contents.js'

/** A VMCALL exit (3-byte instruction); the module copies its fields, so one object serves all. */
const VMCALL_EXIT: VpEnterExit = { exitReason: VmxExitBasic.VMCALL, instructionInfo: 3n << 32n }
const HLT_EXIT: VpEnterExit = { exitReason: VmxExitBasic.HLT }
/** EPT-violation exit qualification bits: data read, data write, instruction fetch. */
const QUALIFICATION = { read: 1n, write: 2n, execute: 4n } as const

/** What the L2 guest touches: the access rule's inputs and the guest memory contents. */
export interface GuestPlatform extends AccessPlatform {
  readonly contents: MemoryContents
}

/**
 * The guest inside its L2 VM (behind TDG.VP.ENTER), on the simulator and on the hardware path's
 * SimKernel alike: hypercalls exit with VMCALL; a memory access the hardware allows completes
 * without an exit (a read's value lands in `read.readValue`; the guest then idles: HLT); one it
 * does not allow exits with an EPT violation carrying the GPA as the guest used it.
 */
export function guestExit(
  platform: GuestPlatform,
  vtl: GuestVtl,
  action: GuestAction | undefined,
  read: { readValue: bigint | undefined }
): VpEnterExit {
  if (action === undefined) return HLT_EXIT
  switch (action.kind) {
    case 'hypercall':
    case 'vtlCall':
    case 'vtlReturn':
    case 'setRegister':
    case 'getRegister':
      return VMCALL_EXIT
    case 'read':
    case 'write':
    case 'execute': {
      const fault = findAccessFault(platform, vtl, action)
      if (fault !== undefined) {
        return {
          exitReason: VmxExitBasic.EPT_VIOLATION,
          gpa: fault.gpa,
          exitQualification: QUALIFICATION[action.kind],
        }
      }
      const { canonical } = classifyGpa(action.gpa, platform.gpaWidth)
      if (action.kind === 'write') platform.contents.write(canonical, action.size, action.value)
      if (action.kind === 'read') read.readValue = platform.contents.read(canonical, action.size)
      return HLT_EXIT
    }
    case 'io':
    case 'writeCr':
    case 'msr':
      return instructionExit(action)
    default:
      return HLT_EXIT
  }
}
