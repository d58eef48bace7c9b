import { defineStruct } from './struct-codec.js'

// KVM argument structs at abi.md §2.3 offsets; padding stays zero (the kernel checks some of it).

export const KvmUserspaceMemoryRegion2 = defineStruct('kvm_userspace_memory_region2', 160, {
  /** Bits 16+ = address-space id. */
  slot: [0, 'u32'],
  flags: [4, 'u32'],
  guestPhysAddr: [8, 'u64'],
  memorySize: [16, 'u64'],
  userspaceAddr: [24, 'u64'],
  guestMemfdOffset: [32, 'u64'],
  guestMemfd: [40, 'u32'],
} as const)

export const KvmMemoryAttributes = defineStruct('kvm_memory_attributes', 32, {
  address: [0, 'u64'],
  size: [8, 'u64'],
  /** 0 = shared, 1 << 3 = private. */
  attributes: [16, 'u64'],
  /** Must be 0. */
  flags: [24, 'u64'],
} as const)

export const KvmCreateGuestMemfd = defineStruct('kvm_create_guest_memfd', 64, {
  size: [0, 'u64'],
  flags: [8, 'u64'],
} as const)

export const KvmEnableCap = defineStruct('kvm_enable_cap', 104, {
  cap: [0, 'u32'],
  flags: [4, 'u32'],
  arg0: [8, 'u64'],
  arg1: [16, 'u64'],
  arg2: [24, 'u64'],
  arg3: [32, 'u64'],
} as const)

export const KvmTdxCmdStruct = defineStruct('kvm_tdx_cmd', 24, {
  id: [0, 'u32'],
  flags: [4, 'u32'],
  /** An immediate, or the address of the sub-command's struct. */
  data: [8, 'u64'],
  /** Out: the SEAMCALL status when the TDX module refused. */
  hwError: [16, 'u64'],
} as const)

/** The fixed part of `kvm_tdx_capabilities`: 48 bytes of values, reserved to 2048, cpuid header. */
export const KvmTdxCapabilitiesHeader = defineStruct('kvm_tdx_capabilities', 2056, {
  supportedAttrs: [0, 'u64'],
  supportedXfam: [8, 'u64'],
  kernelTdvmcallinfo1R11: [16, 'u64'],
  userTdvmcallinfo1R11: [24, 'u64'],
  kernelTdvmcallinfo1R12: [32, 'u64'],
  userTdvmcallinfo1R12: [40, 'u64'],
  /** In: capacity of `entries`; out: entries written. */
  cpuidNent: [2048, 'u32'],
} as const)

export const KVM_CPUID_ENTRY2_SIZE = 40
export const KVM_TDX_CAPABILITIES_ENTRIES_OFFSET = 2056

export const KvmCpuidEntry2 = defineStruct('kvm_cpuid_entry2', 40, {
  function: [0, 'u32'],
  index: [4, 'u32'],
  flags: [8, 'u32'],
  eax: [12, 'u32'],
  ebx: [16, 'u32'],
  ecx: [20, 'u32'],
  edx: [24, 'u32'],
} as const)
