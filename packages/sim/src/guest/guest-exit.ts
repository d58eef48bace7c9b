import {
  HV_PARTITION_ID_SELF,
  HV_VP_INDEX_SELF,
  HypercallCode,
  VmxExitBasic,
  classifyGpa,
  encodeGetVpRegisters,
  encodeSetVpRegisters,
  hvInputVtlFor,
  type GuestVtl,
} from '@vtl/core'
import type { GuestAction } from '../scenario/types.js'
import type { VpEnterExit } from '../tdx-module/types.js'
import { findAccessFault, type AccessPlatform } from './access.js'
import { hypercallControl } from './guest-hypercall.js'
import type { HypercallPages } from './hypercall-pages.js'
import { instructionExit } from './instruction.js'
import type { MemoryContents } from './memory-contents.js'

const FAST = 1n << 16n
const VTL_CALL = BigInt(HypercallCode.VtlCall)
const VTL_RETURN = BigInt(HypercallCode.VtlReturn)
const VMCALL_INSTRUCTION_INFO = 3n << 32n
/** The scripted guest's step ends without the paravisor's help: the host preempts it. */
const PREEMPTED_EXIT: VpEnterExit = Object.freeze({ exitReason: VmxExitBasic.EXTERNAL_INTERRUPT })
/**
 * A 3-byte VMCALL at CPL 0. Frozen, like the preemption above: the module builds the output of a
 * frozen exit once.
 */
const VMCALL_EXIT: VpEnterExit = Object.freeze({
  exitReason: VmxExitBasic.VMCALL,
  instructionInfo: VMCALL_INSTRUCTION_INFO,
})
/** EPT-violation exit qualification bits: data read, data write, instruction fetch. */
const QUALIFICATION = { read: 1n, write: 2n, execute: 4n } as const

/** The L2's general registers a VMCALL uses, as TDG.VP.ENTER's guest state holds them. */
export interface GuestGprs {
  rax: bigint
  rcx: bigint
  rdx: bigint
  r8: bigint
}

/** What the L2 guest touches: the access rule's inputs and the guest memory contents. */
export interface GuestPlatform extends AccessPlatform {
  readonly contents: MemoryContents
  /** Where the guest writes a memory hypercall's input page and asks for its output. */
  readonly hypercallPages: Readonly<HypercallPages>
}

/** The per-VP guest state the scripted guest keeps between entries. */
export interface ScriptedGuestVp {
  /** What the guest does on this entry. */
  action: GuestAction | undefined
  /** A value the guest read during the entry. */
  readValue: bigint | undefined
  /** XMM0–XMM5 as 12 u64 (low, high), the fast-hypercall registers after RDX and R8. */
  xmm: bigint[]
  /** A hypercall the paravisor asked the guest to reissue: RIP is still on its VMCALL. */
  blocked: IssuedCall | undefined
  /** The last memory or fast hypercall the guest issued (what it reissues when told to). */
  issued: IssuedCall | undefined
}

/** A hypercall as the guest issued it: control word and input bytes. */
export interface IssuedCall {
  control: bigint
  input: Uint8Array
  fast: boolean
}

/** The guest's CPL: SS.DPL of the VTL's segment state (§6.4: the VMCS guest state). */
export function ssDpl(ssAttributes: number): number {
  return (ssAttributes >> 5) & 3
}

/**
 * The guest inside its L2 VM (behind TDG.VP.ENTER), on the simulator and on the hardware path's
 * SimKernel alike, at the register level: a hypercall is a VMCALL with the TLFS x64 convention
 * (RCX control word, RDX/R8 the input/output GPAs with the input page written into guest RAM, or
 * RDX, R8 and XMM0–5 for a fast call; VtlCall/VtlReturn with RCX 0x11/0x12 and the input in
 * RAX); a memory access the hardware allows completes without an exit (a read's value lands in
 * `guest.readValue`) and one it does not allow exits with an EPT violation carrying the GPA as
 * the guest used it. A step with nothing for the paravisor ends with the host preempting the L2.
 */
export function guestExit(
  platform: GuestPlatform,
  vtl: GuestVtl,
  guest: ScriptedGuestVp,
  regs: GuestGprs,
  cpl: number
): VpEnterExit {
  const action = guest.action
  if (guest.blocked !== undefined) {
    const { control, input, fast } = guest.blocked
    return issue(platform, guest, regs, control, input, fast, cpl)
  }
  if (action === undefined) return PREEMPTED_EXIT
  // The VTL switches (a round trip's every entry) here; the other actions in their own function,
  // so that this one stays small enough to inline into the module's TDG.VP.ENTER.
  switch (action.kind) {
    case 'vtlCall':
      regs.rax = action.input
      regs.rcx = VTL_CALL
      return vmcall(cpl)
    case 'vtlReturn':
      regs.rax = action.fast ? 1n : 0n
      regs.rcx = VTL_RETURN
      return vmcall(cpl)
    default:
      return actionExit(platform, vtl, guest, regs, cpl, action)
  }
}

/** The exit of an action other than a VTL switch. */
function actionExit(
  platform: GuestPlatform,
  vtl: GuestVtl,
  guest: ScriptedGuestVp,
  regs: GuestGprs,
  cpl: number,
  action: GuestAction
): VpEnterExit {
  switch (action.kind) {
    case 'hypercall': {
      const call = action.call
      const control =
        call.kind === 'typed'
          ? hypercallControl(call.code, call.repCount)
          : hypercallControl(call.code, call.repCount, call.repStart, call.varHeaderSize)
      const fast = call.kind === 'raw' && call.fast
      return issue(platform, guest, regs, control, call.input, fast, cpl)
    }
    case 'setRegister':
    case 'getRegister': {
      const header = {
        partitionId: HV_PARTITION_ID_SELF,
        vpIndex: HV_VP_INDEX_SELF,
        targetVtl: action.targetVtl === undefined ? 0 : hvInputVtlFor(action.targetVtl),
      }
      const set = action.kind === 'setRegister'
      const input = set
        ? encodeSetVpRegisters(header, [{ name: action.name, value: action.value }])
        : encodeGetVpRegisters(header, [action.name])
      const code = set ? HypercallCode.SetVpRegisters : HypercallCode.GetVpRegisters
      return issue(platform, guest, regs, hypercallControl(code, 1), input, false, cpl)
    }
    case 'read':
    case 'write':
    case 'execute': {
      const fault = findAccessFault(platform, vtl, action)
      const accessCpl = action.kind === 'execute' && action.mode === 'user' ? 3 : cpl
      if (fault !== undefined) {
        return {
          exitReason: VmxExitBasic.EPT_VIOLATION,
          gpa: fault.gpa,
          exitQualification: QUALIFICATION[action.kind],
          instructionInfo: VMCALL_INSTRUCTION_INFO,
          cpl: accessCpl,
        }
      }
      const { canonical } = classifyGpa(action.gpa, platform.gpaWidth)
      if (action.kind === 'write') platform.contents.write(canonical, action.size, action.value)
      if (action.kind === 'read') guest.readValue = platform.contents.read(canonical, action.size)
      return PREEMPTED_EXIT
    }
    case 'io':
    case 'writeCr':
    case 'msr':
      return instructionExit(action, regs)
    default:
      return PREEMPTED_EXIT
  }
}

function vmcall(cpl: number): VpEnterExit {
  return cpl === 0 ? VMCALL_EXIT : { ...VMCALL_EXIT, cpl }
}

/**
 * A hypercall by the TLFS x64 convention: a fast call's input in RDX, R8, then XMM0–5; a memory
 * call's input page written at the platform's `hypercallPages.input`, output asked at `.output`.
 */
function issue(
  platform: GuestPlatform,
  guest: ScriptedGuestVp,
  regs: GuestGprs,
  control: bigint,
  input: Uint8Array,
  fast: boolean,
  cpl: number
): VpEnterExit {
  guest.issued = { control, input, fast }
  if (fast) {
    const padded = new Uint8Array(Math.max(16, Math.ceil(input.length / 16) * 16))
    padded.set(input)
    const view = new DataView(padded.buffer)
    regs.rcx = control | FAST
    regs.rdx = view.getBigUint64(0, true)
    regs.r8 = view.getBigUint64(8, true)
    for (let i = 0; i < guest.xmm.length; i++) {
      const at = 16 + i * 8
      guest.xmm[i] = at + 8 <= padded.length ? view.getBigUint64(at, true) : 0n
    }
  } else {
    const pages = platform.hypercallPages
    platform.contents.writeBytes(pages.input, input)
    regs.rcx = control
    regs.rdx = pages.input
    regs.r8 = pages.output
  }
  return vmcall(cpl)
}
