import { io, iow, iowr } from './ioc.js'

/** `KVMIO`, the ioctl type of every KVM request. */
export const KVMIO = 0xae

/** KVM requests used here (abi.md §2.2), x86_64. */
export const KvmRequest = {
  KVM_GET_API_VERSION: io(KVMIO, 0x00),
  KVM_CREATE_VM: io(KVMIO, 0x01),
  KVM_CHECK_EXTENSION: io(KVMIO, 0x03),
  KVM_GET_VCPU_MMAP_SIZE: io(KVMIO, 0x04),
  KVM_CREATE_VCPU: io(KVMIO, 0x41),
  KVM_SET_USER_MEMORY_REGION: iow(KVMIO, 0x46, 32),
  KVM_SET_USER_MEMORY_REGION2: iow(KVMIO, 0x49, 160),
  KVM_RUN: io(KVMIO, 0x80),
  KVM_SET_CPUID2: iow(KVMIO, 0x90, 8),
  KVM_ENABLE_CAP: iow(KVMIO, 0xa3, 104),
  KVM_MEMORY_ENCRYPT_OP: iowr(KVMIO, 0xba, 8),
  KVM_SET_MEMORY_ATTRIBUTES: iow(KVMIO, 0xd2, 32),
  KVM_CREATE_GUEST_MEMFD: iowr(KVMIO, 0xd4, 64),
  KVM_PRE_FAULT_MEMORY: iowr(KVMIO, 0xd5, 64),
} as const

export type KvmRequestName = keyof typeof KvmRequest

/** `KVM_GET_API_VERSION` has answered 12 since Linux 2.6.22. */
export const KVM_API_VERSION = 12

/** `KVM_X86_*_VM` types for KVM_CREATE_VM; KVM_CAP_VM_TYPES answers `1 << type` per type. */
export const KvmVmType = {
  DEFAULT: 0,
  SW_PROTECTED: 1,
  SEV: 2,
  SEV_ES: 3,
  SNP: 4,
  TDX: 5,
} as const
export type KvmVmTypeName = keyof typeof KvmVmType

/** KVM_CHECK_EXTENSION ids (abi.md §2.1, and the long-standing NR/MAX_VCPUS). */
export const KvmCap = {
  NR_VCPUS: 9,
  NR_MEMSLOTS: 10,
  MAX_VCPUS: 66,
  EXIT_HYPERCALL: 201,
  VM_GPA_BITS: 207,
  USER_MEMORY2: 231,
  MEMORY_FAULT_INFO: 232,
  MEMORY_ATTRIBUTES: 233,
  GUEST_MEMFD: 234,
  VM_TYPES: 235,
  PRE_FAULT_MEMORY: 236,
  X86_APIC_BUS_CYCLES_NS: 237,
  X86_GUEST_MODE: 238,
  GUEST_MEMFD_FLAGS: 244,
} as const
export type KvmCapName = keyof typeof KvmCap

/** Memslot flags. */
export const KvmMemFlags = { LOG_DIRTY_PAGES: 1, READONLY: 2, GUEST_MEMFD: 4 } as const
export const KVM_MEMORY_ATTRIBUTE_PRIVATE = 1n << 3n
/** guest_memfd creation flags. */
export const GuestMemfdFlags = { MMAP: 1n, INIT_SHARED: 2n } as const

export const KvmExitReason = { HYPERCALL: 3, MEMORY_FAULT: 39, TDX: 40 } as const
export const KVM_MEMORY_EXIT_FLAG_PRIVATE = 1n << 3n
export const KVM_SYSTEM_EVENT_TDX_FATAL = 7
export const KVM_HC_MAP_GPA_RANGE = 12
export const KVM_EXIT_HYPERCALL_LONG_MODE = 1n
export const KVM_TDX_MEASURE_MEMORY_REGION = 1

/** `KVM_TDX_*` sub-commands of KVM_MEMORY_ENCRYPT_OP (`kvm_tdx_cmd.id`). */
export const KvmTdxCmd = {
  CAPABILITIES: 0,
  INIT_VM: 1,
  INIT_VCPU: 2,
  INIT_MEM_REGION: 3,
  FINALIZE_VM: 4,
  GET_CPUID: 5,
  TERMINATE_VM: 6,
} as const
