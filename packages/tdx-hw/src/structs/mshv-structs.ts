import { defineStruct } from './struct-codec.js'

// mshv_vtl argument structs at abi.md §1.4 offsets. "packed" in the kernel header changes
// nothing for these: every field is already at its natural alignment.

export const MshvVpRegisters = defineStruct('mshv_vp_registers', 16, {
  /** Must be 1: the kernel refuses any other count with -EINVAL. */
  count: [0, 'u32'],
  reserved: [4, 'u32'],
  regsPtr: [8, 'u64'],
} as const)

export const MshvVtlRamDisposition = defineStruct('mshv_vtl_ram_disposition', 16, {
  startPfn: [0, 'u64'],
  /** Exclusive end. */
  lastPfn: [8, 'u64'],
} as const)

export const MshvVtlSetPollFile = defineStruct('mshv_vtl_set_poll_file', 8, {
  cpu: [0, 'u32'],
  fd: [4, 'u32'],
} as const)

export const MshvVtlHvcallSetup = defineStruct('mshv_vtl_hvcall_setup', 16, {
  /** In bytes (≤ 8192). */
  bitmapArraySize: [0, 'u64'],
  allowBitmapPtr: [8, 'u64'],
} as const)

export const MshvVtlHvcall = defineStruct('mshv_vtl_hvcall', 48, {
  control: [0, 'u64'],
  inputSize: [8, 'u64'],
  inputPtr: [16, 'u64'],
  /** Out: the full 64-bit hypercall result word. */
  status: [24, 'u64'],
  outputSize: [32, 'u64'],
  outputPtr: [40, 'u64'],
} as const)

export const MshvTdcall = defineStruct('mshv_tdcall', 56, {
  /** In: the TDCALL leaf; out: the TDX completion status. */
  rax: [0, 'u64'],
  rcx: [8, 'u64'],
  rdx: [16, 'u64'],
  r8: [24, 'u64'],
  r9: [32, 'u64'],
  r10Out: [40, 'u64'],
  r11Out: [48, 'u64'],
} as const)

export const MshvKickCpus = defineStruct('mshv_kick_cpus', 24, {
  /** Bytes of the CPU mask. */
  len: [0, 'u64'],
  cpuMaskPtr: [8, 'u64'],
  flags: [16, 'u64'],
} as const)

export const MshvVtlSignalEvent = defineStruct('mshv_vtl_signal_event', 8, {
  connectionId: [0, 'u32'],
  flag: [4, 'u32'],
} as const)

export const MshvVtlSetEventfd = defineStruct('mshv_vtl_set_eventfd', 8, {
  fd: [0, 's32'],
  flag: [4, 'u32'],
} as const)

export const MshvSintMask = defineStruct('mshv_sint_mask', 8, { mask: [0, 'u8'] } as const)

export const MshvRestorePartitionTime = defineStruct('mshv_restore_partition_time', 24, {
  tscSequence: [0, 'u32'],
  reserved: [4, 'u32'],
  referenceTimeIn100Ns: [8, 'u64'],
  tsc: [16, 'u64'],
} as const)

export const MshvMapDeviceIntr = defineStruct('mshv_map_device_intr', 16, {
  vector: [0, 'u32'],
  apicId: [4, 'u32'],
  createMapping: [8, 'u8'],
} as const)

export const MshvVtlSidecarInfo = defineStruct('mshv_vtl_sidecar_info', 12, {
  baseCpu: [0, 'u32'],
  cpuCount: [4, 'u32'],
  perCpuShmem: [8, 'u32'],
} as const)
