// @vtl/tdx-hw: the real kernel interface (explicit barrel; the UAPI tables are also the
// `./ioctl-numbers` subpath, which loads no FFI).
export * from './uapi/index.js'

export { Errno, errnoName } from './sys/errno.js'
export type { ErrnoName } from './sys/errno.js'
export { SyscallError, IoctlError } from './sys/syscall-error.js'
export type { SyscallName, SyscallErrorDetails, IoctlErrorDetails } from './sys/syscall-error.js'
export { OpenFlags, Prot, MapFlags, EventfdFlags } from './sys/syscalls.js'
export type { Syscalls, UserMemory, IoctlArg, PinnedThread } from './sys/syscalls.js'
export { createLibcSyscalls, koffiAvailable, cpuSetBytes } from './sys/libc-syscalls.js'

export { defineStruct, expectSize } from './structs/struct-codec.js'
export type { StructCodec, StructValue, FieldType, Layout } from './structs/struct-codec.js'
export {
  MshvVpRegisters,
  MshvVtlRamDisposition,
  MshvVtlSetPollFile,
  MshvVtlHvcallSetup,
  MshvVtlHvcall,
  MshvTdcall,
  MshvKickCpus,
  MshvVtlSignalEvent,
  MshvVtlSetEventfd,
  MshvSintMask,
  MshvRestorePartitionTime,
  MshvMapDeviceIntr,
  MshvVtlSidecarInfo,
} from './structs/mshv-structs.js'
export {
  KvmUserspaceMemoryRegion2,
  KvmMemoryAttributes,
  KvmCreateGuestMemfd,
  KvmEnableCap,
  KvmTdxCmdStruct,
  KvmTdxCapabilitiesHeader,
  KvmCpuidEntry2,
  KVM_CPUID_ENTRY2_SIZE,
  KVM_TDX_CAPABILITIES_ENTRIES_OFFSET,
} from './structs/kvm-structs.js'
export {
  HV_REGISTER_ASSOC_BYTES,
  encodeHvRegisterAssoc,
  writeHvRegisterAssoc,
  decodeHvRegisterAssoc,
} from './structs/hv-register-assoc.js'
export {
  RunPage,
  RunPageOffset,
  RunPageHeader,
  RUN_PAGE_SIZE,
  RUN_PAGE_EXIT_MESSAGE_SIZE,
  RUN_PAGE_CONTEXT_SIZE,
  RUN_PAGE_VTL_RET_ACTIONS_SIZE,
  RUN_FLAG_HALTED,
  TdxVpContextOffset,
  TDX_VP_CONTEXT_SIZE,
  FXSAVE_SIZE,
  TdxExitInfo,
  TdxVpState,
  TdxL2TscDeadline,
  TdxVpStateFlags,
  decodeTdxVpContext,
  encodeTdxVpContext,
} from './structs/run-page.js'
export type { TdxVpContext } from './structs/run-page.js'

export { DeviceFd, Cleanup, openFd, withMemory, checkArgument } from './devices/device-fd.js'
export { MshvDevice, MSHV_PATH } from './devices/mshv-device.js'
export { VtlFd, vpRegistersArg, encodeTdcallArg, decodeTdcallArg } from './devices/vtl-fd.js'
export type {
  VtlFdOptions,
  TdcallRequest,
  Vtl0MemoryRange,
  ReturnToLowerVtlOutcome,
} from './devices/vtl-fd.js'
export {
  defaultAllowedHypercalls,
  encodeAllowBitmap,
  bitmapAllows,
} from './devices/allow-bitmap.js'
export {
  HvcallDevice,
  HypercallNotAllowedError,
  MSHV_HVCALL_PATH,
} from './devices/hvcall-device.js'
export type { HvcallResult } from './devices/hvcall-device.js'
export { KvmDevice, KvmVm, GuestMemfd, KVM_PATH, vmTypeNames } from './devices/kvm-device.js'
export type {
  UserMemoryRegion2,
  MemoryAttributes,
  CpuidEntry2,
  TdxCapabilities,
} from './devices/kvm-device.js'

export { HwPlatform } from './platform/hw-platform.js'
export type { HwPlatformOptions } from './platform/hw-platform.js'
export { HwHypervisorPort, hypercallOutputSize } from './platform/hypervisor-port.js'
export { HwVpPort } from './platform/vp-port.js'
export type { VpHost } from './platform/vp-port.js'
export { HwPlanSink } from './platform/plan-sink.js'
export type { TdcallIssuer } from './platform/plan-sink.js'
export { HwVpState } from './platform/vp-state.js'
export type { PendingVmcsWrite } from './platform/vp-state.js'
export { VpRunner } from './platform/vp-runner.js'
export type { VpEntry, VpRunOutcome, VpRunnerOptions } from './platform/vp-runner.js'
export { vmcsWriteMask, resetRunPageBank, RUN_PAGE_BANK_KEYS } from './platform/vmcs-writes.js'
/** Moved to @vtl/core (the software TD injects the same way); kept here for existing imports. */
export { exceptionInjectionWrites } from '@vtl/core'
export type { RunPageBank } from './platform/vmcs-writes.js'

export { probe, PROBED_DEVICES } from './probe/probe.js'
export type { Check, DeviceProbe, KvmProbe, ProbeResult } from './probe/probe.js'
export { formatProbe } from './probe/format-probe.js'
export { hostProbeEnv } from './probe/probe-env.js'
export type { ProbeEnv } from './probe/probe-env.js'
