import { checkInt } from './u64.js'
import { nameIndex } from '../internal/name-index.js'

/**
 * VMX basic exit reasons (Intel SDM Appendix C; cross-checked with openvmm `VmxExitBasic` and
 * Linux `uapi/asm/vmx.h`). TDG.VP.ENTER reports an L2 exit with one of these in RAX[15:0].
 */
export const VmxExitBasic = {
  EXCEPTION_NMI: 0,
  EXTERNAL_INTERRUPT: 1,
  TRIPLE_FAULT: 2,
  INIT_SIGNAL: 3,
  SIPI: 4,
  IO_SMI: 5,
  OTHER_SMI: 6,
  INTERRUPT_WINDOW: 7,
  NMI_WINDOW: 8,
  TASK_SWITCH: 9,
  CPUID: 10,
  GETSEC: 11,
  HLT: 12,
  INVD: 13,
  INVLPG: 14,
  RDPMC: 15,
  RDTSC: 16,
  RSM: 17,
  VMCALL: 18,
  CR_ACCESS: 28,
  DR_ACCESS: 29,
  IO: 30,
  MSR_READ: 31,
  MSR_WRITE: 32,
  INVALID_GUEST_STATE: 33,
  MSR_LOADING: 34,
  MWAIT: 36,
  MONITOR_TRAP_FLAG: 37,
  MONITOR: 39,
  PAUSE: 40,
  MCE_DURING_VMENTRY: 41,
  TPR_BELOW_THRESHOLD: 43,
  APIC_ACCESS: 44,
  EOI_INDUCED: 45,
  GDTR_IDTR: 46,
  LDTR_TR: 47,
  EPT_VIOLATION: 48,
  EPT_MISCONFIG: 49,
  INVEPT: 50,
  RDTSCP: 51,
  PREEMPTION_TIMER: 52,
  INVVPID: 53,
  WBINVD: 54,
  XSETBV: 55,
  APIC_WRITE: 56,
  RDRAND: 57,
  INVPCID: 58,
  VMFUNC: 59,
  ENCLS: 60,
  RDSEED: 61,
  PML_FULL: 62,
  XSAVES: 63,
  XRSTORS: 64,
  UMWAIT: 67,
  TPAUSE: 68,
  /** An L2 VM executed TDCALL (routed to L1 unless L2_CTLS.enable_tdvmcall sends it to the host). */
  TDCALL: 77,
} as const

export type VmxExitBasicName = keyof typeof VmxExitBasic
export type VmxExitBasic = (typeof VmxExitBasic)[VmxExitBasicName]

const reasons = nameIndex(VmxExitBasic)

export function vmxExitBasicName(reason: number): VmxExitBasicName | undefined {
  return reasons.nameOf(reason)
}

/** The 32-bit VMX exit reason: basic reason 15:0, flags in 31:16. */
export interface VmxExit {
  basicReason: number
  /** Bit 26. */
  busLockPreempted: boolean
  /** Bit 27. */
  enclaveInterruption: boolean
  /** Bit 28. */
  pendingMtf: boolean
  /** Bit 31: VM entry failed (the basic reason says why). */
  vmEntryFailed: boolean
}

export function decodeVmxExit(exitReason: number): VmxExit {
  checkInt(exitReason, 0, 0xffff_ffff, 'exitReason')
  return {
    basicReason: exitReason & 0xffff,
    busLockPreempted: ((exitReason >>> 26) & 1) === 1,
    enclaveInterruption: ((exitReason >>> 27) & 1) === 1,
    pendingMtf: ((exitReason >>> 28) & 1) === 1,
    vmEntryFailed: exitReason >>> 31 === 1,
  }
}
