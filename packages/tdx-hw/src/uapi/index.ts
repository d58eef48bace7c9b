// The UAPI tables (`@vtl/tdx-hw/ioctl-numbers`): request numbers, constants, no FFI.
export { IocDir, ioc, io, ior, iow, iowr, decodeRequest, formatRequest } from './ioc.js'
export type { DecodedRequest } from './ioc.js'
export type { FdKind } from './fd-kind.js'
export {
  MSHV_IOCTL,
  MshvRequest,
  MSHV_REQUEST_ALIASES,
  MshvCapability,
  MshvVtlPageKind,
  MSHV_REAL_OFF_SHIFT,
  MshvKickFlags,
  MSHV_VTL_LOW_SHARED_FLAG,
  MSHV_RAM_DISPOSITION_SHARED_PFN_BIT,
  MSHV_HVCALL_BITMAP_MAX_BYTES,
  MSHV_HVCALL_IO_MAX,
} from './mshv-requests.js'
export type { MshvRequestName, MshvCapabilityName } from './mshv-requests.js'
export {
  KVMIO,
  KvmRequest,
  KVM_API_VERSION,
  KvmVmType,
  KvmCap,
  KvmMemFlags,
  KVM_MEMORY_ATTRIBUTE_PRIVATE,
  GuestMemfdFlags,
  KvmExitReason,
  KVM_MEMORY_EXIT_FLAG_PRIVATE,
  KVM_SYSTEM_EVENT_TDX_FATAL,
  KVM_HC_MAP_GPA_RANGE,
  KVM_EXIT_HYPERCALL_LONG_MODE,
  KVM_TDX_MEASURE_MEMORY_REGION,
  KvmTdxCmd,
} from './kvm-requests.js'
export type { KvmRequestName, KvmVmTypeName, KvmCapName } from './kvm-requests.js'
export {
  REQUESTS,
  requestFromName,
  requestName,
  requestNames,
  requestInfo,
  isKnownRequest,
  describeRequest,
} from './request-table.js'
export type { RequestInfo, RequestName } from './request-table.js'
