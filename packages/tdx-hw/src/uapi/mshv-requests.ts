import { io, ior, iow, iowr } from './ioc.js'

/** `MSHV_IOCTL`, the ioctl type of every mshv and mshv_vtl request. */
export const MSHV_IOCTL = 0xb8

/**
 * mshv_vtl requests (abi.md §1.3), computed from their `_IOC` fields. Upstream names first; the
 * OHCL fork's own requests carry its `MSHV_VTL_` spelling. The arm64 CCA requests are left out:
 * this package targets x86_64 only.
 */
export const MshvRequest = {
  MSHV_CHECK_EXTENSION: iow(MSHV_IOCTL, 0x00, 4),
  MSHV_GET_VP_REGISTERS: iowr(MSHV_IOCTL, 0x05, 16),
  MSHV_SET_VP_REGISTERS: iow(MSHV_IOCTL, 0x06, 16),
  MSHV_RESTORE_PARTITION_TIME: iow(MSHV_IOCTL, 0x13, 24),
  MSHV_CREATE_VTL: ior(MSHV_IOCTL, 0x1d, 1),
  MSHV_HVCALL_SETUP: iow(MSHV_IOCTL, 0x1e, 16),
  MSHV_HVCALL: iowr(MSHV_IOCTL, 0x1f, 48),
  MSHV_ADD_VTL0_MEMORY: iow(MSHV_IOCTL, 0x21, 16),
  MSHV_SINT_SIGNAL_EVENT: iow(MSHV_IOCTL, 0x22, 8),
  MSHV_SINT_POST_MESSAGE: iow(MSHV_IOCTL, 0x23, 24),
  MSHV_SINT_SET_EVENTFD: iow(MSHV_IOCTL, 0x24, 8),
  MSHV_SINT_PAUSE_MESSAGE_STREAM: iow(MSHV_IOCTL, 0x25, 8),
  MSHV_SET_POLL_FILE: iow(MSHV_IOCTL, 0x25, 8),
  MSHV_RETURN_TO_LOWER_VTL: io(MSHV_IOCTL, 0x27),
  MSHV_VTL_PVALIDATE: iow(MSHV_IOCTL, 0x28, 20),
  MSHV_VTL_RMPADJUST: iow(MSHV_IOCTL, 0x29, 32),
  MSHV_VTL_TDCALL: iowr(MSHV_IOCTL, 0x32, 56),
  MSHV_VTL_READ_VMX_CR4_FIXED1: ior(MSHV_IOCTL, 0x33, 8),
  MSHV_VTL_GUEST_VSM_VMSA_PFN: iowr(MSHV_IOCTL, 0x34, 8),
  MSHV_VTL_RMPQUERY: iow(MSHV_IOCTL, 0x35, 48),
  MSHV_VTL_INVLPGB: iow(MSHV_IOCTL, 0x36, 24),
  MSHV_VTL_TLBSYNC: io(MSHV_IOCTL, 0x37),
  MSHV_VTL_KICK_CPU: iow(MSHV_IOCTL, 0x38, 24),
  MSHV_VTL_MAP_REDIRECTED_DEVICE_INTERRUPT: iowr(MSHV_IOCTL, 0x39, 16),
  // nr 0x40 as in openvmm HEAD; an older fork header used 0x39 (abi.md §6). Pin to the kernel.
  MSHV_VTL_SECURE_AVIC_VTL0_PFN: iowr(MSHV_IOCTL, 0x40, 8),
  MSHV_VTL_SIDECAR_START: io(MSHV_IOCTL, 0xf0),
  MSHV_VTL_SIDECAR_STOP: io(MSHV_IOCTL, 0xf1),
  MSHV_VTL_SIDECAR_RUN: io(MSHV_IOCTL, 0xf2),
  MSHV_VTL_SIDECAR_INFO: ior(MSHV_IOCTL, 0xf3, 12),
} as const

export type MshvRequestName = keyof typeof MshvRequest

/** The older fork header's spellings of three upstream requests (same numbers). */
export const MSHV_REQUEST_ALIASES: Readonly<Record<string, MshvRequestName>> = {
  MSHV_VTL_ADD_VTL0_MEMORY: 'MSHV_ADD_VTL0_MEMORY',
  MSHV_VTL_SET_POLL_FILE: 'MSHV_SET_POLL_FILE',
  MSHV_VTL_RETURN_TO_LOWER_VTL: 'MSHV_RETURN_TO_LOWER_VTL',
}

/** MSHV_CHECK_EXTENSION ids (`MSHV_CAP_*`); an unknown id gives -EOPNOTSUPP. */
export const MshvCapability = {
  CORE_API_STABLE: 0,
  REGISTER_PAGE: 1,
  VTL_RETURN_ACTION: 2,
  DR6_SHARED: 3,
  /** OHCL fork only. */
  LOWER_VTL_TIMER_VIRT: 4,
} as const
export type MshvCapabilityName = keyof typeof MshvCapability

/** Page kinds of the VTL fd's mmap: page offset = `kind << 16 | cpu` (abi.md §1.5). */
export const MshvVtlPageKind = {
  RUN: 0,
  REGISTER_PAGE: 1,
  SNP_VMSA: 2,
  TDX_APIC: 3,
  SNP_VTL1_VMSA: 4,
} as const
export type MshvVtlPageKind = (typeof MshvVtlPageKind)[keyof typeof MshvVtlPageKind]

export const MSHV_REAL_OFF_SHIFT = 16

/** `mshv_kick_cpus.flags`. */
export const MshvKickFlags = { WAIT_FOR_CPUS: 1, CANCEL_CPU_RUN: 2 } as const

/** `/dev/mshv_vtl_low` offset bit 63: map the page shared (decrypted). */
export const MSHV_VTL_LOW_SHARED_FLAG = 1n << 63n
/** `mshv_vtl_ram_disposition.start_pfn` bit 51: the range is shared (fork). */
export const MSHV_RAM_DISPOSITION_SHARED_PFN_BIT = 1n << 51n

/** Largest allow bitmap HVCALL_SETUP takes, in bytes. */
export const MSHV_HVCALL_BITMAP_MAX_BYTES = 8192
/** Largest hypercall input or output HVCALL carries. */
export const MSHV_HVCALL_IO_MAX = 4096
