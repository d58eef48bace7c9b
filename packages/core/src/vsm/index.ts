// The VSM engine's public names (explicit barrel; see README.md in this folder).
export { VsmEngine } from './engine.js'
export type { VsmEngineOptions, VsmPorts } from './engine.js'
export type {
  GuestMemoryPort,
  HypervisorCallResult,
  HypervisorPort,
  InjectedException,
  VpPort,
} from './ports.js'
export type { ProtectionPort, RepOutcome } from './protection-port.js'
export {
  ACTIVE_VTL_PARAVISOR,
  GuestVsmState,
  INITIAL_CONTEXT_SIZE,
  PartitionField,
  PendingOperation,
  PlainSharedVsmState,
  TLB_RELEASE_BITS,
  TLB_RELEASE_SHIFT,
  WakeReason,
  releasedTlbWord,
  sharedVsmStateBytes,
  tlbReleaseCount,
} from './shared-state.js'
export type { SharedVsmState } from './shared-state.js'
export { VsmVp, SINT_MASKED } from './vp.js'
export type { GuestVsmVpState, RegisterInterceptState, VtlState, VtlSynic } from './vp.js'
export { VtlApic } from './apic.js'
export { resetPrivateRegisters, resetSharedRegisters } from './registers.js'
export type { PrivateRegisters, SharedRegisters, VtlRegisterWrite } from './registers.js'
export {
  CR4_GUEST_OWNED_AND_MCE,
  DEFAULT_VMX_FIXED_BITS,
  checkInitialContext,
  cr4AllowedBits,
} from './initial-context-check.js'
export type { VmxFixedBits } from './initial-context-check.js'
export { handleWake } from './wake.js'
export type { WakeOutcome } from './wake.js'
export {
  assertInterrupt,
  combinePendingEvent,
  endOfInterrupt,
  exitToParavisor,
  handleCrossVtlInterrupts,
  isInterruptPending,
  prepareEntry,
} from './interrupts.js'
export type { EntryPlan } from './interrupts.js'
export {
  HV_MESSAGE_TYPE_GPA_INTERCEPT,
  HV_X64_MEMORY_INTERCEPT_MESSAGE_SIZE,
  HvInterceptAccessType,
  completeSintMessage,
  deliverGpaIntercept,
  encodeGpaInterceptMessage,
} from './gpa-intercept.js'
export type { GpaFault, GpaInterceptOutcome } from './gpa-intercept.js'
export { INTERCEPTION_SINT, postInterceptMessage } from './intercept-post.js'
export {
  HV_X64_IO_PORT_INTERCEPT_MESSAGE_SIZE,
  HV_X64_MSR_INTERCEPT_MESSAGE_SIZE,
  HV_X64_REGISTER_INTERCEPT_MESSAGE_SIZE,
  HvInstructionInterceptMessageType,
  encodeIoPortInterceptMessage,
  encodeMsrInterceptMessage,
  encodeRegisterInterceptMessage,
} from './intercept-messages.js'
export type { InterceptHeaderFields, IoPortInterceptFields } from './intercept-messages.js'
export {
  CrInterceptBit,
  IN_OUT_LENGTH,
  MOV_CR_LENGTH,
  RDMSR_WRMSR_LENGTH,
  executeIo,
  executeMovToCr,
  executeRdmsr,
  executeWrmsr,
} from './instruction-intercept.js'
export type { InstructionOutcome } from './instruction-outcome.js'
export { executeTableLoad, executeXsetbv, XSETBV_LENGTH } from './secure-register-loads.js'
export type { TableLoad } from './secure-register-loads.js'
export {
  FAST_REGISTER_PAIRS,
  FAST_REGISTER_PAIRS_32,
  HypercallException,
  dispatchHypercall,
} from './dispatch.js'
export type { HypercallOutcome, HypercallRequest } from './dispatch.js'
export { HYPERCALL_TABLE } from './hypercall-table.js'
export type { HypercallSpec, RepCall, SimpleCall, VtlSwitchCall } from './hypercall-table.js'
export { forwardHypercall } from './host-forward.js'
export type { ForwardResult } from './host-forward.js'
export { snapshotEngine } from './snapshot.js'
export { enablePartitionVtl } from './handlers/enable-partition-vtl.js'
export { enableVpVtl } from './handlers/enable-vp-vtl.js'
export { startVirtualProcessor } from './handlers/start-virtual-processor.js'
export { VMCALL_LENGTH, raiseVtl, vtlCall, vtlReturn } from './handlers/vtl-switch.js'
export { modifyVtlProtectionMask } from './handlers/modify-vtl-protection-mask.js'
export {
  checkVsmPartitionConfigAccess,
  getVsmPartitionConfig,
  setVsmPartitionConfig,
} from './handlers/vsm-partition-config.js'
export { getVpRegister, setVpRegister } from './handlers/register-access.js'
export type { RegisterRead } from './handlers/register-access.js'
export { getVpRegisters, setVpRegisters } from './handlers/vp-registers.js'
export {
  modifySparseGpaPageHostVisibility,
  querySparseGpaPageHostVisibility,
} from './handlers/host-visibility.js'
export {
  INSTALL_INTERCEPT_SIZE,
  INTERCEPT_TYPE_X64_IO_PORT,
  InterceptAccess,
  decodeInstallIntercept,
  installIntercept,
} from './handlers/install-intercept.js'
export type { InstallInterceptInput } from './handlers/install-intercept.js'
export { HvFlushFlags, flushVirtualAddress } from './handlers/flush.js'
export { sendSyntheticClusterIpi } from './handlers/send-synthetic-cluster-ipi.js'
export type { RepResult } from './handlers/rep-result.js'
export {
  exceptionInjectionWrites,
  forEachVmcsWrite,
  vmcsWritePlan,
  vmcsWrites,
  vmxAccessRights,
  VMCS_WRITE_FIELD_COUNT,
} from './vmcs-writes.js'
export type { VmcsWrite, VmcsWritePlan } from './vmcs-writes.js'
export { decodeVpExit, emptyVpExit, l2Ran } from './loop/vp-exit.js'
export type { VpExit, VpExitRegisters } from './loop/vp-exit.js'
export type { AsyncVpBacking, VpBacking, VpBackingBase } from './loop/vp-backing.js'
export { checkAccess } from './loop/mem-access.js'
export type { AccessKind, AccessVerdict, PageFacts } from './loop/mem-access.js'
export { checkMemFault } from './loop/mem-fault.js'
export type { MemFault, MemFaultOutcome } from './loop/mem-fault.js'
export { handleVmcall } from './loop/vmcall.js'
export type { VmcallExit } from './loop/vmcall.js'
export { handleVpExit } from './loop/exit-switch.js'
export { handleInstructionExit } from './loop/instruction-exit.js'
export type { InstructionExit, InstructionKind } from './loop/instruction-exit.js'
export type { ExitOutcome } from './loop/exit-switch.js'
export { prepareVpEntry, runVp, runVpAsync, vpBlocked } from './loop/run-vp.js'
export type { VpBlockedReason, VpRun, VpRunOptions } from './loop/run-vp.js'
export {
  entryReason,
  postMessage,
  setEntryReason,
  setVinaStatus,
  vinaStatus,
  vtlReturnRegisters,
  writeOverlayMsr,
} from './overlay-pages.js'
export type { OverlayKind } from './overlay-pages.js'
export { writeHypercallMsr } from './hypercall-page.js'
export { haltForTlbUnlock, waitForTlbLocks } from './tlb-lock-wait.js'
